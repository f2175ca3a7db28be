"""Token chips: each token drawn as a rounded box with its id underneath, wrapped like text.

Painted by hand (one widget, no child per token) so a long paste stays cheap; unknown tokens get a red
outline because "the model cannot see this character" is the lesson."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

PALETTE = ["#dbeafe", "#dcfce7", "#fef3c7", "#fce7f3", "#ede9fe", "#cffafe"]


@dataclass(frozen=True)
class Chip:
    text: str
    id: int
    unknown: bool = False
    partial: bool = False  # part of a character's bytes: drawn with a dashed edge (it continues next door)


def visible(text: str) -> str:
    """Make whitespace visible: a BPE token ' cat' shows as '␣cat'."""
    return text.replace(" ", "␣").replace("\n", "⏎").replace("\t", "⇥") or "◌"


class TokenChips(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._chips: list[Chip] = []
        self._rects: list[QRectF] = []
        sp = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        sp.setHeightForWidth(True)
        self.setSizePolicy(sp)

    def set_chips(self, chips: list[Chip]) -> None:
        self._chips = list(chips)
        self._relayout(self.width())
        self.updateGeometry()
        self.update()

    def chips(self) -> list[Chip]:
        """What is on screen (tests read this)."""
        return list(self._chips)

    def _relayout(self, width: int) -> int:
        """Place chips left to right, wrapping at `width`; returns the height used."""
        fm = QFontMetrics(self.font())
        small = max(7, self.font().pointSize() - 2) if self.font().pointSize() > 0 else 8
        line_h = fm.height() + QFontMetrics(self._id_font(small)).height() + 10
        x, y, gap = 4.0, 4.0, 6.0
        self._rects = []
        for chip in self._chips:
            w = (
                max(
                    fm.horizontalAdvance(visible(chip.text)),
                    QFontMetrics(self._id_font(small)).horizontalAdvance(str(chip.id)),
                )
                + 14
            )
            if x + w > max(width, 60) - 4 and x > 4:
                x, y = 4.0, y + line_h + gap
            self._rects.append(QRectF(x, y, w, line_h))
            x += w + gap
        return int(y + line_h + 8) if self._chips else 0

    def _id_font(self, size: int):
        font = self.font()
        font.setPointSize(size)
        return font

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._relayout(width)

    def sizeHint(self) -> QSize:
        return QSize(300, max(40, self._relayout(max(self.width(), 300))))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.setMinimumHeight(self._relayout(self.width()))

    def paintEvent(self, event) -> None:
        self._relayout(self.width())
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        fm = QFontMetrics(self.font())
        small = max(7, self.font().pointSize() - 2) if self.font().pointSize() > 0 else 8
        for chip, rect in zip(self._chips, self._rects, strict=True):
            fill = QColor("#fee2e2") if chip.unknown else QColor(PALETTE[chip.id % len(PALETTE)])
            pen = QPen(QColor("#dc2626") if chip.unknown else QColor("#94a3b8"), 2 if chip.unknown else 1)
            if chip.partial:
                pen = QPen(QColor("#7c3aed"), 1.5, Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.setBrush(fill)
            painter.drawRoundedRect(rect, 6, 6)
            painter.setPen(QColor("#111827"))
            painter.setFont(self.font())
            top = QRectF(rect.x(), rect.y() + 3, rect.width(), fm.height())
            painter.drawText(top, Qt.AlignmentFlag.AlignCenter, visible(chip.text))
            painter.setFont(self._id_font(small))
            painter.setPen(QColor("#dc2626") if chip.unknown else QColor("#475569"))
            bottom = QRectF(rect.x(), top.bottom(), rect.width(), rect.height() - fm.height() - 3)
            painter.drawText(bottom, Qt.AlignmentFlag.AlignCenter, str(chip.id))
        painter.end()
