"""The model view: every layer × head as a thumbnail, so a pattern (a head that looks back at the noun)
can be spotted at a glance and clicked to open it in the big heatmap."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Signal

from gui.panels.attention.heatmap import CMAP

SELECTED_PEN = pg.mkPen((230, 57, 70), width=3)
PLAIN_PEN = pg.mkPen((200, 200, 200), width=1)


class AttentionGrid(pg.GraphicsLayoutWidget):
    """Thumbnails built once per model shape; `set_attention((L, H, T, T))` updates them in place."""

    head_clicked = Signal(int, int)  # layer, head (0-based)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("attentionGrid")
        self.setBackground("w")
        self._shape: tuple[int, int] = (0, 0)
        self._size = -1  # tokens in the thumbnails, to re-fit only when it changes
        self._views: list[list[pg.ViewBox]] = []
        self._images: list[list[pg.ImageItem]] = []
        self._labels: list[list[pg.LabelItem]] = []
        self._lut = pg.colormap.get(CMAP).getLookupTable(nPts=256)
        self._latest: tuple | None = None  # the last set_attention arguments
        self._selected: tuple[int | None, int | None] = (None, None)
        self._cells = None  # cells still to build, while building
        self._build_timer = QTimer(self, interval=0)
        self._build_timer.timeout.connect(self._build_next)
        self.setMinimumHeight(120)

    def _build(self, n_layer: int, n_head: int) -> None:
        """Start building the thumbnails for a new shape, one per event-loop turn: all eight of `default` at
        once held the GUI thread 50 ms (300 ms while torch was importing in a worker)."""
        self.clear()
        self._views = [[] for _ in range(n_layer)]
        self._images = [[] for _ in range(n_layer)]
        self._labels = [[] for _ in range(n_layer)]
        self._shape, self._size = (n_layer, n_head), -1
        self._cells = iter([(layer, head) for layer in range(n_layer) for head in range(n_head)])
        self._build_timer.start()

    def _build_next(self) -> None:
        cell = next(self._cells, None)
        if cell is None:
            self._build_timer.stop()
            self._cells = None
            if self._latest is not None:
                self.set_attention(*self._latest)
            return
        layer, head = cell
        label = self.addLabel("", row=2 * layer, col=head, size="8pt")
        # enableMenu=False at construction: a ViewBox's context menu is two Designer forms of widgets, and
        # building eight of them when a model arrived held the GUI thread 150-230 ms (23-65 ms without).
        view = self.addViewBox(
            row=2 * layer + 1, col=head, lockAspect=True, enableMouse=False, enableMenu=False
        )
        view.invertY(True)
        view.setBorder(PLAIN_PEN)
        image = pg.ImageItem(axisOrder="row-major")
        image.setLookupTable(self._lut)
        view.addItem(image)
        image.mouseClickEvent = lambda ev, li=layer, hi=head: (self.head_clicked.emit(li, hi), ev.accept())
        self._views[layer].append(view)
        self._images[layer].append(image)
        self._labels[layer].append(label)

    def building(self) -> bool:
        """Thumbnails for a new shape are still being made (the latest attention is drawn when they are)."""
        return self._cells is not None

    def set_attention(self, attention: np.ndarray, scores: np.ndarray | None = None) -> None:
        """Update thumbnails; `scores` (L, H), when known, prints each head's coreference score.
        Labels and ranges are touched only when they change: this runs on every keystroke."""
        self._latest = (attention, scores)
        n_layer, n_head = attention.shape[:2]
        if (n_layer, n_head) != self._shape:
            self._build(n_layer, n_head)
        if self.building():
            return
        resized = attention.shape[-1] != self._size
        self._size = attention.shape[-1]
        has_scores = scores is not None and scores.shape == (n_layer, n_head)
        for layer in range(n_layer):
            for head in range(n_head):
                self._images[layer][head].setImage(attention[layer, head], autoLevels=False, levels=(0, 1))
                text = f"L{layer + 1}H{head + 1}" + (f" {scores[layer, head]:.2f}" if has_scores else "")
                if self._labels[layer][head].text != text:
                    self._labels[layer][head].setText(text, size="8pt")
                if resized:
                    self._views[layer][head].autoRange(padding=0.02)
        self.set_selected(*self._selected)

    def set_selected(self, layer: int | None, head: int | None) -> None:
        """Outline the head shown in the big heatmap (a whole layer row when head is None)."""
        self._selected = (layer, head)
        for li, views in enumerate(self._views):
            for hi, view in enumerate(views):
                chosen = layer is not None and li == layer and (head is None or hi == head)
                view.setBorder(SELECTED_PEN if chosen else PLAIN_PEN)
