"""The cloze as a game: the learner picks a word for the blank first, then the model's ranking (read from
the cloze panel) is revealed and the pick scored — its probability and rank — with a running score.
Rules live in core.lesson.game; this widget only shows them."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from core.lesson import game as G
from gui.i18n import language, tr

Ranking = list[tuple[str, float]]


class ClozeGame(QWidget):
    """`ranking_for(prompt)` types the blank into the cloze panel and returns what it shows, or raises."""

    def __init__(self, ranking_for: Callable[[str], Ranking], seats: Callable[[], list[str]]) -> None:
        super().__init__()
        self.setObjectName("lessonGame")
        self._ranking_for = ranking_for
        self._seats = seats
        self.round = 0
        self.history: list[tuple[G.Round, G.PickScore, list[tuple[str, str]]]] = []
        self.prompt = QLabel(objectName="lessonGamePrompt", wordWrap=True)
        self.prompt.setStyleSheet("font-size: 15pt; font-weight: bold")
        self.buttons: list[QPushButton] = []
        grid = QGridLayout()
        for i in range(max(len(r.options) for r in G.ROUNDS)):
            button = QPushButton(objectName=f"lessonPick{i}")
            button.clicked.connect(lambda _=False, i=i: self.pick(self.buttons[i].text()))
            self.buttons.append(button)
            grid.addWidget(button, i // 3, i % 3)
        self.reveal = QLabel(objectName="lessonGameReveal", wordWrap=True)
        self.score_label = QLabel(objectName="lessonScore", wordWrap=True)
        self.again = QPushButton(objectName="lessonGameRestart")
        self.again.clicked.connect(self.restart)
        row = QHBoxLayout()
        row.addWidget(self.score_label, 1)
        row.addWidget(self.again)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.prompt)
        layout.addLayout(grid)
        layout.addWidget(self.reveal)
        layout.addLayout(row)
        self.retranslate()

    def current(self) -> G.Round | None:
        return G.ROUNDS[self.round] if self.round < len(G.ROUNDS) else None

    def score(self) -> tuple[int, int]:
        """(points, the most the model's first choices would have scored)."""
        return sum(s.points for _, s, _ in self.history), sum(s.max_points for _, s, _ in self.history)

    def pick(self, word: str) -> G.PickScore | None:
        """Score `word` for the current blank against the model's ranking, then move to the next blank."""
        rnd = self.current()
        if rnd is None:
            return None
        try:
            ranking = self._ranking_for(rnd.prompt)
            result = G.score_pick(ranking, word)
        except Exception as exc:  # noqa: BLE001 - a missing panel or model is said in words, never raised
            self.reveal.setText(str(getattr(exc, "zh" if language() == "zh" else "en", exc)))
            return None
        notes = G.held_out_notes(ranking, rnd.animal, self._seats()) if rnd.seat_blank else []
        self.history.append((rnd, result, notes))
        self.round += 1
        self.retranslate()
        return result

    def restart(self) -> None:
        self.round, self.history = 0, []
        self.retranslate()

    def to_json(self) -> str:
        """The game so far, for the settings (so it carries on at the next launch)."""
        history = [
            {"prompt": r.prompt, **dataclasses.asdict(s), "notes": notes} for r, s, notes in self.history
        ]
        return json.dumps({"round": self.round, "history": history}, ensure_ascii=False)

    def from_json(self, text: str) -> None:
        """Carry on a saved game; an unreadable one starts afresh."""
        try:
            state = json.loads(text or "{}")
            by_prompt = {r.prompt: r for r in G.ROUNDS}
            fields = [f.name for f in dataclasses.fields(G.PickScore)]
            history = [
                (
                    by_prompt[h["prompt"]],
                    G.PickScore(**{k: h[k] for k in fields}),
                    [tuple(n) for n in h["notes"]],
                )
                for h in state.get("history", [])
            ]
            self.round, self.history = int(state.get("round", len(history))), history
        except (ValueError, KeyError, TypeError, AttributeError):
            self.round, self.history = 0, []
        self.retranslate()

    def retranslate(self) -> None:
        rnd = self.current()
        self.prompt.setText(
            rnd.prompt + tr("　先选一个词：", "   pick a word first:")
            if rnd
            else tr("全部空格都玩过了。", "Every blank played.")
        )
        for i, button in enumerate(self.buttons):
            button.setVisible(rnd is not None and i < len(rnd.options))
            button.setText(rnd.options[i] if rnd and i < len(rnd.options) else "")
        got, best = self.score()
        self.score_label.setText(
            tr(
                f"得分 {got}（模型的首选能得 {best}），已玩 {len(self.history)}/{len(G.ROUNDS)}",
                f"Score {got} (the model's first choices would score {best}), "
                f"played {len(self.history)}/{len(G.ROUNDS)}",
            )
        )
        self.again.setText(tr("重新开始", "Start again"))
        self.reveal.setText(self.last_text())

    def last_text(self) -> str:
        if not self.history:
            return ""
        rnd, s, notes = self.history[-1]
        where = (
            tr(f"排第 {s.rank}/{s.n}", f"ranked {s.rank} of {s.n}")
            if s.rank
            else tr(f"不在模型显示的前 {s.n} 名里", f"not in the model's top {s.n}")
        )
        text = tr(
            f"{rnd.prompt}：你选了“{s.word}”，模型给它 {s.probability:.1%}，{where}；模型的首选是“{s.best}”"
            f"（{s.best_probability:.1%}）。+{s.points} 分",
            f"{rnd.prompt}: you picked {s.word}; the model gives it {s.probability:.1%}, {where}; its first "
            f"choice is {s.best} ({s.best_probability:.1%}). +{s.points} points",
        )
        for zh, en in notes:
            text += "\n" + tr(zh, en)
        return text
