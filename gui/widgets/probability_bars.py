"""Horizontal probability bars with a one-line headline ("它是 → 猫 0.81 · 垫子 0.07").

Used for a token's attention weights and for the cloze candidates: the same picture, because both are
"how the model splits one unit of probability". Painted by hand: one widget, no child per bar."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

BAR = QColor("#3b82f6")
HIGHLIGHT = QColor("#e63946")


def headline(source: str, items: list[tuple[str, float]], n: int = 3) -> str:
    """ "它是 → 猫 0.81 · 垫子 0.07": the top few, in order."""
    parts = [f"{label} {value:.2f}" for label, value in items[:n]]
    return f"{source} → " + " · ".join(parts) if source else " · ".join(parts)


class ProbabilityBars(QWidget):
    """`set_items([(label, value)])`, values in 0..1, already sorted as they should be shown."""

    def __init__(self, parent: QWidget | None = None, max_rows: int = 10) -> None:
        super().__init__(parent)
        self._items: list[tuple[str, float]] = []
        self._highlight: set[str] = set()
        self.max_rows = max_rows
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def set_items(self, items: list[tuple[str, float]], highlight: set[str] | None = None) -> None:
        self._items = [(str(label), float(value)) for label, value in items][: self.max_rows]
        self._highlight = set(highlight or ())
        height = max(1, len(self._items)) * self._row_height() + 4
        if height != self.minimumHeight():  # a new layout only when the number of rows changes
            self.setMinimumHeight(height)
            self.updateGeometry()
        self.update()

    def items(self) -> list[tuple[str, float]]:
        """What is on screen (tests read this)."""
        return list(self._items)

    def _row_height(self) -> int:
        return QFontMetrics(self.font()).height() + 6

    def sizeHint(self) -> QSize:
        return QSize(260, max(1, len(self._items)) * self._row_height() + 4)

    def minimumSizeHint(self) -> QSize:
        return QSize(160, min(3, max(1, len(self._items))) * self._row_height())

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        fm = QFontMetrics(self.font())
        row_h = self._row_height()
        label_w = (
            max([fm.horizontalAdvance(label) for label, _ in self._items] + [fm.horizontalAdvance("垫子")]) + 10
        )
        value_w = fm.horizontalAdvance("0.000") + 8
        bar_w = max(20, self.width() - label_w - value_w - 8)
        for i, (label, value) in enumerate(self._items):
            y = 2 + i * row_h
            painter.setPen(QColor("#111827"))
            painter.drawText(
                QRectF(2, y, label_w - 6, row_h),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                label,
            )
            painter.fillRect(QRectF(label_w, y + 3, bar_w, row_h - 6), QColor("#eef2f7"))
            colour = HIGHLIGHT if label in self._highlight else BAR
            painter.fillRect(QRectF(label_w, y + 3, bar_w * min(1.0, max(0.0, value)), row_h - 6), colour)
            painter.setPen(QColor("#374151"))
            painter.drawText(
                QRectF(label_w + bar_w + 4, y, value_w, row_h),
                Qt.AlignmentFlag.AlignVCenter,
                f"{value:.3f}" if value < 0.01 else f"{value:.2f}",
            )
        painter.end()
