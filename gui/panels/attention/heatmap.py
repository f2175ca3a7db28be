"""The attention heatmap: tokens on both axes, a fixed 0–1 colour bar, painted by one QPainter pass.

Rows are the tokens that look (queries), columns the tokens they look at (keys), as in the papers. The
colour scale never auto-levels: 0.3 must look the same in every sentence and every model.

A plain widget rather than a pyqtgraph plot: pyqtgraph's axes and image are a tree of Python items, and
their paint pass after a new model took 12-25 ms of the GUI thread on its own and 40-70 ms while a worker
held the GIL (benchmarks/ui_latency.py --journey). Here a paint is one image and a few dozen labels."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QWidget

CMAP = "viridis"
LEFT, BOTTOM, TOP = 44, 26, 8  # px: the query labels, the key labels, a margin
BAR_GAP, BAR_WIDTH, BAR_LABELS = 6, 12, 30  # px: the colour bar and its 0 … 1 labels
BAR_TICKS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
SELECTION = QColor(230, 57, 70)


def tick_text(token: str) -> str:
    """A short axis label: "" (a BPE piece that continues in the next token) shows as ◌, spaces as ␣."""
    if token == "":
        return "◌"
    if token == "<unk>":
        return "□"
    return token.replace(" ", "␣").replace("\n", "⏎")[:6]


def _rgb_image(rgb: np.ndarray) -> QImage:
    """A QImage that owns a copy of an (H, W, 3) uint8 array."""
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    return QImage(rgb.tobytes(), w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class AttentionHeatmap(QWidget):
    """`set_matrix(tokens, m)` repaints; a click on a cell emits `row_clicked(query index)`."""

    row_clicked = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("attentionHeatmap")
        self.setMinimumSize(160, 120)
        self.lut = pg.colormap.get(CMAP).getLookupTable(nPts=256)[:, :3].astype(np.uint8)  # (256, 3)
        self._bar = _rgb_image(self.lut[::-1, None, :])  # 1 × 256, 1.0 at the top
        self._matrix = np.zeros((0, 0), np.float32)
        self._image = QImage()
        self._tokens: list[str] = []
        self._labels: list[str] = []
        self._selected: int | None = None

    # --- data ----------------------------------------------------------------------------------------
    def set_matrix(self, tokens: list[str], matrix: np.ndarray, selected: int | None = None) -> None:
        self._matrix = np.asarray(matrix, dtype=np.float32)
        if list(tokens) != self._tokens:
            self._tokens = list(tokens)
            self._labels = [tick_text(t) for t in tokens]
        self._image = _rgb_image(self.colors()) if self._matrix.size else QImage()
        self._selected = selected
        self.update()

    def set_selected(self, row: int | None) -> None:
        """Outline the query row whose weights the bars show."""
        self._selected = row
        self.update()

    def matrix(self) -> np.ndarray:
        return self._matrix

    def colors(self) -> np.ndarray:
        """(T, T, 3) uint8: the colour each cell is painted, on the fixed 0–1 scale."""
        index = np.clip(np.nan_to_num(self._matrix) * 255 + 0.5, 0, 255).astype(np.uint8)
        return self.lut[index]

    def cells_rect(self) -> QRectF:
        """Where the cells are drawn, in widget pixels."""
        right = BAR_GAP + BAR_WIDTH + BAR_LABELS
        return QRectF(LEFT, TOP, max(1, self.width() - LEFT - right), max(1, self.height() - TOP - BOTTOM))

    # --- painting ------------------------------------------------------------------------------------
    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), Qt.GlobalColor.white)
        cells = self.cells_rect()
        self._paint_bar(p, cells)
        n = len(self._tokens)
        if self._image.isNull() or self._matrix.shape != (n, n) or n == 0:
            p.end()
            return
        p.drawImage(cells, self._image)  # nearest-neighbour scaling: one block per cell
        cw, ch = cells.width() / n, cells.height() / n
        p.setPen(Qt.GlobalColor.black)
        metrics = p.fontMetrics()
        row_step = max(1, math.ceil(metrics.height() / ch))  # labels that would overlap are thinned out
        widest = max(metrics.horizontalAdvance(label) for label in self._labels) + 4
        col_step = max(1, math.ceil(widest / cw))
        right, centre = Qt.AlignRight | Qt.AlignVCenter, Qt.AlignHCenter | Qt.AlignVCenter
        for i, label in enumerate(self._labels):
            if i % row_step == 0:
                p.drawText(QRectF(0, cells.top() + i * ch, LEFT - 4, ch), right, label)
            if i % col_step == 0:
                left = cells.left() + (i - col_step / 2 + 0.5) * cw
                p.drawText(QRectF(left, cells.bottom(), col_step * cw, BOTTOM), centre, label)
        row = self._selected
        if row is not None and 0 <= row < n:
            p.setPen(QPen(SELECTION, 2))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(QRectF(cells.left(), cells.top() + row * ch, cells.width(), ch))
        p.end()

    def _paint_bar(self, p: QPainter, cells: QRectF) -> None:
        bar = QRectF(cells.right() + BAR_GAP, cells.top(), BAR_WIDTH, cells.height())
        p.drawImage(bar, self._bar)
        p.setPen(QColor(90, 90, 90))
        p.drawRect(bar)
        for value in BAR_TICKS:
            y = bar.bottom() - value * bar.height()
            box = QRectF(bar.right() + 3, y - 8, BAR_LABELS, 16)
            p.drawText(box, Qt.AlignLeft | Qt.AlignVCenter, f"{value:g}")

    # --- input ---------------------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:
        cells, n = self.cells_rect(), len(self._tokens)
        pos = event.position()
        if n and cells.contains(pos):
            self.row_clicked.emit(min(n - 1, int((pos.y() - cells.top()) / (cells.height() / n))))
            event.accept()
        else:
            super().mousePressEvent(event)
