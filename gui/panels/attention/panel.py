"""Attention inspector: type a sentence, see where each token looks — one head, a layer's mean of heads,
the mean of everything (the default: single heads of a small model depend on its seed), or rollout.

A forward pass of the bundled model takes a few milliseconds, so it runs on the GUI thread as you type
(measured in benchmarks/inspect_latency.py); loading models and scoring heads on held-out probes run in
workers. While a run trains, the panel shows the attention the trainer snapshots on its probe sentence."""

from __future__ import annotations

import time
from functools import partial

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from core.config import model_lang
from core.events import Snapshot
from gui import workers
from gui.i18n import tr
from gui.panels.attention.chips import ClickableChips
from gui.panels.attention.grid import AttentionGrid
from gui.panels.attention.heatmap import AttentionHeatmap
from gui.panels.attention.summary import coref_report, model_summary
from gui.panels.attention.view import compute_attention, group_words, input_notes, view_items
from gui.widgets.model_choice import ModelChoice, follow_example
from gui.widgets.probability_bars import ProbabilityBars, headline
from gui.widgets.throttle import WhenVisible
from gui.widgets.token_chips import Chip

DEFAULT_TEXT = "猫坐在垫子上，它很舒服。它是"
EXAMPLES = {"zh": DEFAULT_TEXT, "en": "the cat sat on the mat, it was comfortable, that"}
MAX_CHARS = 2000  # the input's cap: a 1 MB paste becomes its first 2,000 characters
SLOW_MS = 20.0  # above this per forward, typing is debounced instead of followed at once


def _row(*items) -> QHBoxLayout:
    """A horizontal row of widgets; (widget, stretch) pairs stretch."""
    row = QHBoxLayout()
    for item in items:
        row.addWidget(*(item if isinstance(item, tuple) else (item,)))
    return row


class AttentionPanel(QWidget):
    def __init__(self, context=None) -> None:
        super().__init__()
        self.setObjectName("attentionPanel")
        self._ckpt = None
        self._tokens: list[str] = []
        self._att = np.zeros((0, 0, 0, 0), np.float32)
        self._selected: int | None = None
        self._reports: dict[str, dict] = {}
        self._note = ""
        self._notes: tuple[int, list[str], bool] = (0, [], False)  # dropped tokens, unknown chars, capped
        self._forward_ms = 0.0
        self.render_count = 0
        self._follow_snapshot = WhenVisible(self, self._show_snapshot)
        self.model_choice = ModelChoice(context)
        self.model_choice.setObjectName("attentionModel")
        self.input = QLineEdit(
            DEFAULT_TEXT, objectName="attentionInput", maxLength=MAX_CHARS, clearButtonEnabled=True
        )
        self.chips = ClickableChips()
        self.layer = QComboBox(objectName="attentionLayer")
        self.head = QComboBox(objectName="attentionHead")
        self.find_button = QPushButton(objectName="attentionFindHead")
        self.info = QLabel(objectName="attentionInfo", wordWrap=True)
        self.summary = QLabel(objectName="attentionSummary", wordWrap=True)
        self.headline = QLabel(objectName="attentionHeadline")
        self.headline.setStyleSheet("font-weight: bold")
        self.bars = ProbabilityBars(max_rows=8)
        self.bars.setObjectName("attentionBars")
        self.heatmap = AttentionHeatmap()
        self.grid = AttentionGrid()
        self._timer = QTimer(self, singleShot=True, interval=0)
        self._timer.timeout.connect(self.refresh)
        self._grid_timer = QTimer(self, singleShot=True, interval=150)
        self._grid_timer.timeout.connect(self._show_grid)
        self._build_layout()
        self.input.textChanged.connect(lambda _t: self._timer.start())
        self.layer.currentIndexChanged.connect(lambda _i: self._on_view_changed())
        self.head.currentIndexChanged.connect(lambda _i: self._show())
        self.chips.clicked.connect(self._select)
        self.heatmap.row_clicked.connect(self._select)
        self.grid.head_clicked.connect(self._on_head_clicked)
        self.find_button.clicked.connect(self.find_coref_head)
        self.model_choice.model_changed.connect(self._on_model_changed)
        self.model_choice.status_posted.connect(self._set_note)
        if context is not None:
            context.session.snapshot_ready.connect(self._on_snapshot_ready)
        self.retranslate()
        self.model_choice.start()  # deferred until after the window's first paint

    def _build_layout(self) -> None:
        self.layer_label, self.head_label = QLabel(), QLabel()
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        for widget, stretch in ((self.headline, 0), (self.bars, 0), (self.grid, 1)):
            side_layout.addWidget(widget, stretch)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.heatmap)
        split.addWidget(side)
        split.setSizes([600, 400])
        layout = QVBoxLayout(self)
        layout.addLayout(_row(self.model_choice, (self.input, 1)))
        layout.addWidget(self.chips)
        row = (self.layer_label, self.layer, self.head_label, self.head, (QWidget(), 1), self.find_button)
        layout.addLayout(_row(*row))
        for widget, stretch in ((self.info, 0), (split, 1), (self.summary, 0)):
            layout.addWidget(widget, stretch)

    def retranslate(self) -> None:
        self.model_choice.retranslate()
        self.input.setPlaceholderText(
            tr("输入一句话，看每个词在看哪里", "Type a sentence to see where each word looks")
        )
        self.layer_label.setText(tr("层", "Layer"))
        self.head_label.setText(tr("头", "Head"))
        self.find_button.setText(tr("找出指代头", "Find the coreference head"))
        self.find_button.setToolTip(
            tr(
                "在留出的句子上给每个头打分：哪个头把“它”指向正确的名词？",
                "Score every head on held-out sentences: which one points 它 at the right noun?",
            )
        )
        self._fill_view_combos()
        self._update_texts()

    # --- what is on screen ---------------------------------------------------------------------------
    def tokens(self) -> list[str]:
        return list(self._tokens)

    def attention_matrix(self) -> np.ndarray:
        return self.heatmap.matrix().copy()

    def view(self) -> tuple[int | None, int | None, bool]:
        """(layer, head, rollout) of the combos; None means "mean over"."""
        n_layer = self._att.shape[0]
        li, hi = self.layer.currentIndex(), self.head.currentIndex()
        if li <= 0 or li > n_layer:
            return None, None, li > n_layer
        return li - 1, (hi - 1 if hi > 0 else None), False

    def coref_report(self) -> dict | None:
        """The last "find the coreference head" result for the model shown (None until it has run)."""
        return self._reports.get(getattr(self._ckpt, "path", ""))

    def set_view(self, layer: int | None, head: int | None = None, rollout: bool = False) -> None:
        self.layer.setCurrentIndex(self._att.shape[0] + 1 if rollout else (0 if layer is None else layer + 1))
        self.head.setCurrentIndex(0 if head is None or layer is None else head + 1)

    # --- computing -----------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Recompute for the input text with the chosen model (called through the typing timer)."""
        if self.model_choice.is_live() or self._ckpt is None:
            return
        text = self.input.text()
        if not text.strip():
            self._tokens, self._att = [], np.zeros((0, 0, 0, 0), np.float32)
            self.chips.set_chips([])
            self._show()
            return
        t0 = time.perf_counter()
        tokens, ids, offsets, text, att, dropped = compute_attention(self._ckpt, text)
        self._forward_ms = (time.perf_counter() - t0) * 1000
        self._timer.setInterval(0 if self._forward_ms < SLOW_MS else 150)
        unk = self._ckpt.tokenizer.unk_id
        pairs = enumerate(zip(ids, offsets, strict=True))
        self.chips.set_chips(
            [Chip(text[a:b] if i == unk else tokens[k], i, i == unk) for k, (i, (a, b)) in pairs]
        )
        self._notes = (dropped, self._ckpt.tokenizer.unknown_chars(text), len(self.input.text()) >= MAX_CHARS)
        self._set_data(tokens, att)

    def _set_data(self, tokens: list[str], att: np.ndarray) -> None:
        if att.shape[:2] != self._att.shape[:2]:
            self._att = att
            self._fill_view_combos()
        reset = list(tokens) != self._tokens
        self._tokens, self._att = list(tokens), att
        if reset or self._selected is None or self._selected >= len(tokens):
            self._selected = len(tokens) - 1 if tokens else None
        self._show()

    def _show(self) -> None:
        self.head.setEnabled(self.layer.currentIndex() not in (0, self._att.shape[0] + 1))
        layer, head, rolled = self.view()
        matrix = np.zeros((0, 0))
        if len(self._tokens):
            # core.analysis.probes imports torch: only reached once there is attention to show, never at startup
            from core.analysis.probes import attention_view

            matrix = attention_view(self._att, layer, head, rolled)
        self.heatmap.set_matrix(self._tokens, matrix, self._selected)
        self.chips.set_selected(self._selected)
        if len(self._tokens):
            self._grid_timer.start()  # the thumbnails follow when typing pauses; the heatmap at once
        self._show_bars(matrix)
        self._update_texts()
        self.render_count += 1

    def _show_grid(self) -> None:
        if len(self._tokens):
            report = self._reports.get(getattr(self._ckpt, "path", ""), {})
            self.grid.set_attention(self._att, report.get("head_scores"))
            self.grid.set_selected(*self.view()[:2])

    def _show_bars(self, matrix: np.ndarray) -> None:
        i = self._selected
        if i is None or not len(self._tokens):
            self.bars.set_items([])
            self.headline.setText("")
            return
        from core.analysis.cloze import entity_words

        items = group_words(self._tokens, matrix[i], entity_words(self._lang()))
        source = "".join(self._tokens[max(0, i - 1) : i + 1])
        self.bars.set_items(items)
        self.headline.setText(headline(source, items))

    def _lang(self) -> str:
        return model_lang(self._ckpt)

    def _update_texts(self) -> None:
        lines = [self._note] if self._note else []
        if not self.model_choice.is_live() and not self.input.text().strip():
            example = EXAMPLES[self._lang()]
            lines.append(tr(f"输入一句话，例如：{example}", f"Type a sentence, e.g. {example}"))
        lines += input_notes(*self._notes, len(self._tokens), MAX_CHARS)
        self.info.setText("\n".join(lines))
        if self.info.isVisibleTo(self) != bool(lines):
            self.info.setVisible(bool(lines))
        self.summary.setText(model_summary(self._ckpt, self._reports.get(getattr(self._ckpt, "path", ""))))

    def _fill_view_combos(self) -> None:
        n_layer, n_head = self._att.shape[:2] if self._att.ndim == 4 else (0, 0)
        li, hi = max(0, self.layer.currentIndex()), max(0, self.head.currentIndex())
        for combo, items in zip((self.layer, self.head), view_items(n_layer, n_head), strict=True):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(items)
            combo.blockSignals(False)
        self.layer.setCurrentIndex(li if li < self.layer.count() else 0)
        self.head.setCurrentIndex(hi if hi < self.head.count() else 0)

    # --- events --------------------------------------------------------------------------------------
    def _select(self, row: int) -> None:
        self._selected = row
        self._show()

    def _on_view_changed(self) -> None:
        if self.layer.currentIndex() in (0, self._att.shape[0] + 1):
            self.head.setCurrentIndex(0)
        self._show()

    def _on_head_clicked(self, layer: int, head: int) -> None:
        self.set_view(layer, head)

    def _set_note(self, text: str) -> None:
        self._note = text
        self._update_texts()

    def _on_model_changed(self, key: str, ckpt) -> None:
        self._ckpt = ckpt
        self._note = ""
        self.input.setReadOnly(self.model_choice.is_live())
        self.find_button.setEnabled(ckpt is not None)
        self._tokens, self._att, self._notes = [], np.zeros((0, 0, 0, 0), np.float32), (0, [], False)
        if ckpt is None:
            self.chips.set_chips([])
            if self.model_choice.is_live():
                self._note = tr(
                    "训练中：显示训练器在探针句上记录的注意力（每隔几十步更新）；训练结束后可输入任意句子。",
                    "Training: showing the attention the trainer records on its probe sentence; "
                    "type freely once the run has finished.",
                )
            self._show()
            return
        follow_example(self.input, EXAMPLES, self._lang())
        self.refresh()

    def _on_snapshot_ready(self, snap: Snapshot) -> None:
        self._follow_snapshot(snap)  # held while the panel is hidden: a tab behind others costs nothing

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._follow_snapshot.shown()

    def _show_snapshot(self, snap: Snapshot) -> None:
        att = snap.attention
        if not self.model_choice.is_live() or att.ndim != 4 or att.shape[-1] != len(snap.probe_tokens):
            return
        self.input.blockSignals(True)
        self.input.setText(snap.probe_text)
        self.input.blockSignals(False)
        self.chips.set_chips([Chip(t, 0) for t in snap.probe_tokens])
        self._note = tr(
            f"训练中，第 {snap.step} 步：探针句的注意力。",
            f"Training, step {snap.step}: probe sentence attention.",
        )
        self._set_data(list(snap.probe_tokens), snap.attention)

    def find_coref_head(self) -> None:
        """Score every head on held-out probes (in a worker); show the best beside the untrained baseline."""
        ckpt = self._ckpt
        if ckpt is None:
            return
        self.find_button.setEnabled(False)
        self._set_note(tr("正在留出句上给每个头打分…", "Scoring every head on held-out sentences…"))
        work = partial(coref_report, ckpt, self._lang())
        workers.call_in_worker(work, lambda r: self._on_report(ckpt, r), self._on_report_failed, owner=self)

    def _on_report(self, ckpt, report: dict) -> None:
        self._reports[ckpt.path] = report
        self.find_button.setEnabled(self._ckpt is not None)
        self._note = ""
        if ckpt is self._ckpt:
            layer, head = np.unravel_index(int(np.argmax(report["head_scores"])), report["head_scores"].shape)
            self.set_view(int(layer), int(head))
        self._show()

    def _on_report_failed(self, message: str) -> None:
        self.find_button.setEnabled(self._ckpt is not None)
        self._set_note(message)
