"""The attention heatmap: one ImageItem updated in place, tokens on both axes, a fixed 0–1 colour bar.

Rows are the tokens that look (queries), columns the tokens they look at (keys), as in the papers. The
colour scale never auto-levels: 0.3 must look the same in every sentence and every model."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal

CMAP = "viridis"


def tick_text(token: str) -> str:
    """A short axis label: "" (a BPE piece that continues in the next token) shows as ◌, spaces as ␣."""
    if token == "":
        return "◌"
    if token == "<unk>":
        return "□"
    return token.replace(" ", "␣").replace("\n", "⏎")[:6]


class AttentionHeatmap(pg.GraphicsLayoutWidget):
    """`set_matrix(tokens, m)` repaints; a click on a cell emits `row_clicked(query index)`."""

    row_clicked = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self.setObjectName("attentionHeatmap")
        self.plot = self.addPlot(row=0, col=0)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.invertY(True)
        self.plot.setAspectLocked(False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(0, 1), colorMap=CMAP, interactive=False, width=12)
        self.colorbar.setImageItem(self.image, insert_in=self.plot)
        self.image.setLevels((0, 1))
        self.selection = pg.PlotCurveItem(pen=pg.mkPen((230, 57, 70), width=2))
        self.plot.addItem(self.selection)
        self.plot.getAxis("left").setLabel("")
        for name in ("left", "bottom"):
            axis = self.plot.getAxis(name)
            axis.setStyle(tickLength=0, autoExpandTextSpace=False)
            axis.setTextPen("k")
        # Fixed axis sizes: new tick labels on every keystroke must not re-layout the plot.
        self.plot.getAxis("left").setWidth(44)
        self.plot.getAxis("bottom").setHeight(26)
        self._matrix = np.zeros((0, 0), np.float32)
        self._tokens: list[str] = []
        self.image.mouseClickEvent = self._on_image_clicked

    def set_matrix(self, tokens: list[str], matrix: np.ndarray, selected: int | None = None) -> None:
        m = np.asarray(matrix, dtype=np.float32)
        self._matrix = m
        if list(tokens) != self._tokens:
            self._tokens = list(tokens)
            ticks = [(i + 0.5, tick_text(t)) for i, t in enumerate(tokens)]
            self.plot.getAxis("bottom").setTicks([ticks])
            self.plot.getAxis("left").setTicks([ticks])
            n = max(1, len(tokens))
            self.plot.setRange(xRange=(0, n), yRange=(0, n), padding=0.0)
        self.image.setImage(m, autoLevels=False)
        self.image.setLevels((0, 1))
        self.set_selected(selected)

    def set_selected(self, row: int | None) -> None:
        """Outline the query row whose weights the bars show."""
        n = len(self._tokens)
        if row is None or not 0 <= row < n:
            self.selection.setData([], [])
            return
        self.selection.setData([0, n, n, 0, 0], [row, row, row + 1, row + 1, row])

    def matrix(self) -> np.ndarray:
        return self._matrix

    def _on_image_clicked(self, event) -> None:
        row = int(np.floor(event.pos().y()))
        if 0 <= row < len(self._tokens):
            self.row_clicked.emit(row)
            event.accept()
