"""Token chips you can click: choosing the token whose attention the bars explain.

The shared TokenChips widget paints the chips (unknown characters outlined in red, an empty BPE piece
as a continuation chip); this adds a click and an underline on the selected chip."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen

from gui.widgets.token_chips import TokenChips


class ClickableChips(TokenChips):
    clicked = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._selected: int | None = None
        self._version = 0  # bumped by set_chips: the cached layout is for this version
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def _relayout(self, width: int) -> int:
        """The base class lays chips out on every paint; cache it per (chips, width, font)."""
        key = (self._version, width, self.font().key())
        if getattr(self, "_layout_key", None) != key:
            self._layout_key, self._layout_height = key, super()._relayout(width)
        return self._layout_height

    def set_chips(self, chips) -> None:
        self._version = getattr(self, "_version", 0) + 1
        super().set_chips(chips)

    def set_selected(self, index: int | None) -> None:
        self._selected = index
        self.update()

    def mousePressEvent(self, event) -> None:
        pos = QPointF(event.position())
        for i, rect in enumerate(self._rects):
            if rect.contains(pos):
                self.clicked.emit(i)
                return
        super().mousePressEvent(event)

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if self._selected is None or not 0 <= self._selected < len(self._rects):
            return
        rect = self._rects[self._selected]
        painter = QPainter(self)
        painter.setPen(QPen(QColor("#e63946"), 3))
        painter.drawLine(
            QPointF(rect.left() + 3, rect.bottom() + 2), QPointF(rect.right() - 3, rect.bottom() + 2)
        )
        painter.end()
