"""Fact-check view: each article claim beside the figure core.cost.factcheck computes, its verdict and source.
Nothing here is typed in: the table is filled from `check_claims()` so the data and the maths decide."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.cost import factcheck as FC
from gui.i18n import language, tr

VERDICT_COLORS = {
    "correct": "#d8f0d8",
    "misattributed": "#fde2c8",
    "unsupported": "#f8d0d0",
    "rumoured": "#e4e0f4",
}


def verdict_text(verdict: str) -> str:
    return {
        "correct": tr("正确", "correct"),
        "misattributed": tr("张冠李戴", "misattributed"),
        "unsupported": tr("无依据", "unsupported"),
        "rumoured": tr("传闻", "rumoured"),
    }[verdict]


class FactCheckView(QWidget):
    """A table of claims; the selected row's explanation and context figures show below it."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("factcheckView")
        self.claims = FC.check_claims()
        self.table = QTableWidget(len(self.claims), 4, objectName="factcheckTable")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(True)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.detail = QLabel(objectName="factcheckDetail", wordWrap=True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 3)
        layout.addWidget(self.detail, 1)
        self.table.currentCellChanged.connect(lambda row, *_: self._on_row_selected(row))
        self.retranslate()
        self.table.selectRow(0)

    def verdicts(self) -> dict[str, str]:
        """What the table shows, claim id → verdict (tests read this)."""
        return {c.id: c.verdict for c in self.claims}

    def retranslate(self) -> None:
        lang = language()
        self.table.setHorizontalHeaderLabels(
            [
                tr("文章说", "The article says"),
                tr("计算结果", "Computed"),
                tr("结论", "Verdict"),
                tr("来源", "Source"),
            ]
        )
        for row, c in enumerate(self.claims):
            text = c.claim_zh if lang == "zh" else c.claim_en
            claim = f"{text}\n({tr('原文', 'claimed')}: {c.claimed_text(lang)})"
            computed = FC.format_value(c.computed, c.unit, lang)
            if c.alternative is not None:
                alt = c.alternative
                label = alt.label_zh if lang == "zh" else alt.label_en
                computed += f"\n{tr('而', 'whereas')} {label}: {FC.format_value(alt.value, alt.unit, lang)}"
            verdict = QTableWidgetItem(verdict_text(c.verdict))
            verdict.setBackground(QBrush(QColor(VERDICT_COLORS[c.verdict])))
            verdict.setData(Qt.ItemDataRole.UserRole, c.verdict)
            sources = QTableWidgetItem(", ".join(s.key for s in c.sources))
            sources.setToolTip(
                "\n".join(f"[{s.key}] {s.title}" + (f" {s.url}" if s.url else "") for s in c.sources)
            )
            for col, item in enumerate((QTableWidgetItem(claim), QTableWidgetItem(computed), verdict, sources)):
                self.table.setItem(row, col, item)
        self.table.resizeRowsToContents()
        self._on_row_selected(max(0, self.table.currentRow()))

    def _on_row_selected(self, row: int) -> None:
        if not 0 <= row < len(self.claims):
            return
        c, lang = self.claims[row], language()
        lines = [f"<b>{verdict_text(c.verdict)}</b> — {c.explain_zh if lang == 'zh' else c.explain_en}"]
        for e in c.extras:
            lines.append(
                f"• {e.label_zh if lang == 'zh' else e.label_en}: {FC.format_value(e.value, e.unit, lang)}"
            )
        lines.append(tr("来源：", "Sources: ") + "; ".join(f"[{s.key}] {s.title}" for s in c.sources))
        self.detail.setText("<br>".join(lines))
