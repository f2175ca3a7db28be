"""The article's fill-in-the-blank game (完形填空): 猫坐在＿上 → 垫子, 沙发, 床 likely, 灯泡 unlikely.

A blank anywhere → every candidate is put in and the whole sentence scored (core.analysis.cloze); no blank → the
next token's distribution. A temperature slider reshapes the same scores (no recomputation), and the
entropy read-out puts a number on "sharper" and "flatter". Generation colours each sampled token by the
probability the model gave it. During a run the panel reports the trainer's own cloze scores."""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from core.config import model_lang
from core.events import Eval
from gui.i18n import tr
from gui.widgets.model_choice import ModelChoice, follow_example, inference_threads
from gui.widgets.probability_bars import ProbabilityBars

DEFAULT_TEXT = "猫坐在＿上"
EXAMPLES = {"zh": DEFAULT_TEXT, "en": "the cat sat on the _"}
MAX_CHARS = 2000


def prob_colour(p: float) -> str:
    """Red (unlikely) → amber → green (likely), on a log scale so 0.01 and 0.1 look different."""
    x = min(1.0, max(0.0, (np.log10(max(p, 1e-4)) + 3) / 3))  # 0.001 → 0, 1 → 1
    r, g = (int(220 - 170 * x), int(60 + 120 * x))
    return f"rgb({r},{g},60)"


class ClozePanel(QWidget):
    def __init__(self, context=None) -> None:
        super().__init__()
        self.setObjectName("clozePanel")
        self._ckpt = None
        self._words: list[str] = []
        self._logp = np.zeros(0)
        self._probs = np.zeros(0)
        self._generated: list[tuple[str, float]] = []
        self._seed = 0
        self._note = ""
        self._mode = ""
        self._live = ""
        self.model_choice = ModelChoice(context)
        self.model_choice.setObjectName("clozeModel")
        self.input = QLineEdit(
            DEFAULT_TEXT, objectName="clozeInput", maxLength=MAX_CHARS, clearButtonEnabled=True
        )
        self.temperature = QSlider(
            Qt.Orientation.Horizontal, objectName="clozeTemperature", minimum=1, maximum=30, value=10
        )
        self.temp_label = QLabel(objectName="clozeTemperatureLabel")
        self.top_k = QSpinBox(objectName="clozeTopK", minimum=1, maximum=50, value=8)
        self.length = QSpinBox(objectName="clozeLength", minimum=1, maximum=200, value=24)
        self.generate_button = QPushButton(objectName="clozeGenerate")
        self.explain = QLabel(objectName="clozeExplain", wordWrap=True)
        self.entropy_label = QLabel(objectName="clozeEntropy")
        self.results = ProbabilityBars(max_rows=50)
        self.results.setObjectName("clozeResults")
        self.generated_view = QTextBrowser(objectName="clozeGenerated")
        self.generated_view.setMinimumHeight(60)
        self.generated_view.setMaximumHeight(110)
        self._timer = QTimer(self, singleShot=True, interval=120)
        self._timer.timeout.connect(self.refresh)
        self._build_layout()
        self.input.textChanged.connect(lambda _t: self._timer.start())
        self.temperature.valueChanged.connect(lambda _v: self._show())
        self.top_k.valueChanged.connect(lambda _v: self._show())
        self.generate_button.clicked.connect(self.generate)
        self.model_choice.model_changed.connect(self._on_model_changed)
        self.model_choice.status_posted.connect(self._set_note)
        if context is not None:
            context.session.evaluated.connect(self._on_evaluated)
        self.retranslate()
        self.model_choice.start()  # deferred until after the window's first paint

    def _build_layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.model_choice)
        top.addWidget(self.input, 1)
        controls = QHBoxLayout()
        self.topk_label, self.length_label = QLabel(), QLabel()
        for w in (
            self.temp_label,
            self.temperature,
            self.topk_label,
            self.top_k,
            self.length_label,
            self.length,
            self.generate_button,
        ):
            controls.addWidget(w)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(controls)
        layout.addWidget(self.explain)
        layout.addWidget(self.entropy_label)
        layout.addWidget(self.results)
        layout.addWidget(self.generated_view)
        layout.addStretch(1)

    def retranslate(self) -> None:
        self.model_choice.retranslate()
        self.input.setPlaceholderText(
            tr("用 ＿ 或 _ 标出空格，例如 猫坐在＿上", "Mark the blank with ＿ or _, e.g. 猫坐在＿上")
        )
        self.topk_label.setText(tr("前 k 个", "Top k"))
        self.length_label.setText(tr("长度", "Length"))
        self.generate_button.setText(tr("生成", "Generate"))
        self.generate_button.setToolTip(
            tr(
                "从输入（空格之前）往后写；每个字按模型给它的概率着色：绿＝很可能，红＝不太可能",
                "Continue the text (before the blank); each token coloured by the model's "
                "probability: green likely, red unlikely",
            )
        )
        self._show()

    # --- what is on screen ---------------------------------------------------------------------------
    def results_items(self) -> list[tuple[str, float]]:
        return self.results.items()

    def entropy(self) -> float:
        if not len(self._probs):
            return 0.0
        from core.analysis.cloze import entropy  # torch: only reached once a model has produced scores

        return entropy(self._probs)

    def temperature_value(self) -> float:
        return self.temperature.value() / 10.0

    def set_temperature(self, t: float) -> None:
        self.temperature.setValue(int(round(t * 10)))

    def generated(self) -> list[tuple[str, float]]:
        return list(self._generated)

    # --- computing -----------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Score the blank (or the next token) for the input text; cheap enough for the GUI thread."""
        if self._ckpt is None:
            self._compute()  # nothing to run: clears the scores, and needs no torch
        else:
            with inference_threads():
                self._compute()
        self._show()

    def _compute(self) -> None:
        self._words, self._logp, self._note = [], np.zeros(0), ""
        text, ckpt = self.input.text(), self._ckpt
        if ckpt is None:
            return
        from core.analysis import cloze  # torch: a model is loaded, so it is imported already
        from core.analysis.probes import next_token_probs

        lang = model_lang(ckpt)
        if not text.strip(" ＿_"):
            self._note = tr(
                "写一句带空格的话，例如 猫坐在＿上", "Write a sentence with a blank, e.g. 猫坐在＿上"
            )
        elif cloze.find_blank(text) >= 0:
            try:
                scores = cloze.score_blank(
                    ckpt.model, ckpt.tokenizer, text[-8 * ckpt.model_cfg.block_size :], None, lang
                )
            except ValueError as e:
                self._note = str(e)
            else:
                self._mode, self._words, self._logp = "blank", list(scores.words), scores.logprobs
                if scores.dropped:
                    self._note = tr(
                        f"句子比上下文长，略去了 {scores.dropped} 个词元。",
                        f"Longer than the context: {scores.dropped} tokens left out.",
                    )
        else:
            probs = next_token_probs(ckpt.model, ckpt.tokenizer, text[-8 * ckpt.model_cfg.block_size :]).numpy()
            probs[:2] = 0  # <unk>, [MASK]
            vocab = [ckpt.tokenizer.decode([i]) for i in range(len(probs))]
            self._mode, self._words = "next", vocab
            self._logp = np.log(np.maximum(probs, 1e-30))
        if len(text) >= MAX_CHARS:  # the field's maxLength cut a paste: say so
            self._note += tr(
                f" 输入最多 {MAX_CHARS} 个字符，多余的已截掉。", f" Input is capped at {MAX_CHARS} characters."
            )
        unknown = ckpt.tokenizer.unknown_chars(text.replace("＿", "").replace("_", ""))
        if unknown:
            self._note += tr(" 模型不认识：", " Unknown to the model: ") + " ".join(unknown[:12])

    def _show(self) -> None:
        t = self.temperature_value()
        self.temp_label.setText(tr(f"温度 T = {t:.1f}", f"Temperature T = {t:.1f}"))
        self._probs = np.zeros(0)
        if len(self._logp):
            # core.analysis.cloze imports torch: only reached once a model has produced scores, never at startup
            from core.analysis.cloze import apply_temperature

            self._probs = apply_temperature(self._logp, t)
        order = np.argsort(-self._probs, kind="stable")[: self.top_k.value()] if len(self._probs) else []
        self.results.set_items(
            [(self._words[i].replace("\n", "⏎") or "◌", float(self._probs[i])) for i in order]
        )
        masked = self._ckpt is not None and self._ckpt.model_cfg.objective == "masked"
        if self._mode == "blank" and len(self._probs):
            how = (
                tr(
                    "双向模型直接预测空格（多字词逐个还原）",
                    "the bidirectional model predicts the blank directly",
                )
                if masked
                else tr("因果模型给每个填好的整句打分", "the causal model scores each completed sentence")
            )
            explain = tr(
                f"{how}；概率在 {len(self._words)} 个候选词之间归一化。",
                f"{how[:1].upper() + how[1:]}; probabilities normalised over {len(self._words)} candidates.",
            )
            least = np.argsort(self._probs, kind="stable")[:3]
            explain += "\n" + tr("最不可能：", "Least likely: ")
            explain += " · ".join(f"{self._words[i]} {self._probs[i]:.1e}" for i in least)
        elif self._mode == "next" and len(self._probs):
            explain = tr("没有空格：显示下一个词元的概率。", "No blank: the next token's probabilities.")
        else:
            explain = ""
        self.explain.setText("\n".join(s for s in (self._live, self._note, explain) if s))
        self.entropy_label.setText(
            tr(
                f"熵 {self.entropy():.2f} nats（越低越确定）",
                f"Entropy {self.entropy():.2f} nats (lower = more certain)",
            )
            if len(self._probs)
            else ""
        )

    def generate(self) -> None:
        """Sample a continuation; each click draws with a new seed."""
        from core.analysis.cloze import find_blank, generate

        if self._ckpt is None:
            return
        text = self.input.text()
        prompt = text[: find_blank(text)] if find_blank(text) >= 0 else text
        self._seed += 1
        with inference_threads():
            self._generated = generate(
                self._ckpt.model,
                self._ckpt.tokenizer,
                prompt[-8 * self._ckpt.model_cfg.block_size :],
                self.length.value(),
                self.temperature_value(),
                self.top_k.value(),
                self._seed,
            )
        spans = "".join(
            f'<span style="color:{prob_colour(p)}" title="{p:.3f}">{html.escape(tok)}</span>'
            for tok, p in self._generated
        ).replace("\n", "<br>")
        self.generated_view.setHtml(f'<span style="color:#6b7280">{html.escape(prompt)}</span>{spans}')

    # --- events --------------------------------------------------------------------------------------
    def _set_note(self, text: str) -> None:
        self._note = text
        self._show()

    def _on_model_changed(self, key: str, ckpt) -> None:
        self._ckpt = ckpt
        self.generate_button.setEnabled(ckpt is not None)
        self._generated = []
        self.generated_view.clear()
        if ckpt is not None:
            follow_example(self.input, EXAMPLES, model_lang(ckpt))
        self.refresh()
        if ckpt is None and self.model_choice.is_live():
            self._set_note(
                tr(
                    "训练中：下面是训练器在留出提示上的完形填空分数；训练结束后可以自由填空。",
                    "Training: below are the trainer's own cloze scores; play freely once it ends.",
                )
            )

    def _on_evaluated(self, event: Eval) -> None:
        m = event.metrics
        if "cloze_top5_good" not in m:
            return
        good, bad = m["cloze_top5_good"], m.get("cloze_bad_max_prob", 0.0)
        self._live = tr(
            f"第 {event.step} 步：在“猫坐在”之类的提示后，前 5 个候选里能坐的东西占 {good:.2f}；"
            f"不合适的词（灯泡…）最高概率 {bad:.3f}。",
            f"Step {event.step}: after prompts like 猫坐在, {good:.2f} of the top 5 are "
            f"things to sit on; the best misfit (灯泡…) gets {bad:.3f}.",
        )
        self._show()
