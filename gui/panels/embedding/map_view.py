"""The map: entity words as coloured points with their labels, every other token (when asked) as small
grey points named on hover, and a ring on the word being asked about. Items are created once and updated
with setData."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal

from gui.widgets.scatter_labels import ScatterLabels

PALETTE = [
    (31, 119, 180),
    (214, 39, 40),
    (44, 160, 44),
    (148, 103, 189),
    (255, 127, 14),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
]


def category_colours(categories) -> dict[str, tuple[int, int, int]]:
    return {kind: PALETTE[i % len(PALETTE)] for i, kind in enumerate(sorted(set(categories)))}


class MapView(pg.PlotWidget):
    """`show(words, categories, coords, others, other_coords)`; emits `word_clicked(word)`."""

    word_clicked = Signal(str)

    def __init__(self) -> None:
        super().__init__(background="w")
        self.setObjectName("embeddingPlot")
        self.getPlotItem().hideAxis("left")
        self.getPlotItem().hideAxis("bottom")
        self.others = pg.ScatterPlotItem(
            size=5, pen=None, brush=pg.mkBrush(150, 150, 150, 120), hoverable=True, tip=self._tip
        )
        self.scatter = pg.ScatterPlotItem(size=10, pen=pg.mkPen("w", width=0.5))
        self.ring = pg.ScatterPlotItem(size=20, pen=pg.mkPen((220, 0, 0), width=2.5), brush=None)
        self.near = pg.ScatterPlotItem(size=15, pen=pg.mkPen((255, 140, 0), width=1.5), brush=None)
        self.labels = ScatterLabels()
        for item in (self.others, self.scatter, self.near, self.ring, self.labels):
            self.addItem(item)
        self.scatter.sigClicked.connect(self._on_clicked)
        self.others.sigClicked.connect(self._on_clicked)
        self._words: list[str] = []
        self._others: list[str] = []
        self._coords = np.zeros((0, 2))
        self._other_coords = np.zeros((0, 2))
        self._brush_key: tuple = ()
        self._brushes: list = []

    @staticmethod
    def _tip(x, y, data) -> str:
        return str(data)

    def show_points(self, words, categories, coords, others=(), other_coords=None) -> None:
        self._words, self._coords = list(words), np.asarray(coords, dtype=np.float64).reshape(-1, 2)
        key = tuple(categories)
        if key != self._brush_key:  # colours change only with the corpus
            colours = category_colours(categories)
            self._brushes = [pg.mkBrush(*colours[c]) for c in categories]
            self._brush_key = key
        self.scatter.setData(pos=self._coords, brush=self._brushes, data=self._words)
        self.labels.set_labels([w.strip() for w in self._words], self._coords)
        self._others = list(others)
        oc = np.zeros((0, 2)) if other_coords is None else np.asarray(other_coords, np.float64).reshape(-1, 2)
        self._other_coords = oc
        self.others.setData(pos=oc, data=self._others)
        self._fit_range()

    def highlight(self, word: str | None, neighbours=()) -> None:
        pos = self.position(word) if word else None
        self.ring.setData(pos=[] if pos is None else [pos])
        near = [p for p in (self.position(w) for w in neighbours) if p is not None]
        self.near.setData(pos=near)

    def position(self, word: str) -> tuple[float, float] | None:
        if word in self._words:
            return tuple(self._coords[self._words.index(word)])
        if word in self._others:
            return tuple(self._other_coords[self._others.index(word)])
        return None

    def points(self) -> dict[str, tuple[float, float]]:
        return {w: (float(x), float(y)) for w, (x, y) in zip(self._words, self._coords, strict=True)}

    def other_points(self) -> dict[str, tuple[float, float]]:
        return {w: (float(x), float(y)) for w, (x, y) in zip(self._others, self._other_coords, strict=True)}

    def _on_clicked(self, _item, points, *_args) -> None:
        if len(points):
            self.word_clicked.emit(str(points[0].data()))

    def _fit_range(self) -> None:
        """The points' box plus 12 % (labels hang to the right): cheaper than asking every item's bounds.
        Kept while the points still fill most of it, so a time-lapse moves the points, not the view."""
        pts = np.vstack([self._coords, self._other_coords]) if len(self._other_coords) else self._coords
        if not len(pts):
            return
        (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
        (vx0, vx1), (vy0, vy1) = self.getPlotItem().viewRange()
        inside = vx0 <= x0 and x1 <= vx1 and vy0 <= y0 and y1 <= vy1
        if inside and (x1 - x0) > 0.6 * (vx1 - vx0) and (y1 - y0) > 0.6 * (vy1 - vy0):
            return
        pad_x, pad_y = 0.12 * max(x1 - x0, 1e-9), 0.12 * max(y1 - y0, 1e-9)
        self.getPlotItem().setRange(
            xRange=(x0 - pad_x, x1 + 2 * pad_x), yRange=(y0 - pad_y, y1 + 2 * pad_y), padding=0
        )
