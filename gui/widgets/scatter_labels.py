"""Text beside every point of a scatter plot, as one graphics item.

One pyqtgraph TextItem per word costs two Qt calls per word per update; while a run trains, each such
call may wait for the trainer thread to hand back the GIL, so 50 labels took ~50 ms of the GUI thread.
This item stores the positions in numpy and draws all labels in a single paint call."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QPen

TEXT_PX = (120, 24)  # room a label may take right of and above its point, in pixels


class ScatterLabels(pg.GraphicsObject):
    def __init__(self, color=(40, 40, 40)) -> None:
        super().__init__()
        self._texts: list[str] = []
        self._pos = np.zeros((0, 2))
        self._pen = QPen(QColor(*color))

    def set_labels(self, texts, positions) -> None:
        """`texts[i]` drawn at `positions[i]` (data coordinates), a few pixels up and right of the point."""
        self.prepareGeometryChange()
        self._texts = [str(t) for t in texts]
        self._pos = np.asarray(positions, dtype=np.float64).reshape(-1, 2)[: len(self._texts)]
        self.update()

    def labels(self) -> dict[str, tuple[float, float]]:
        return {t: (float(x), float(y)) for t, (x, y) in zip(self._texts, self._pos, strict=False)}

    def dataBounds(self, ax, frac=1.0, orthoRange=None):
        """Auto-range fits the points; the text's room is added as `pixelPadding`."""
        if not len(self._pos):
            return (None, None)
        return (float(self._pos[:, ax].min()), float(self._pos[:, ax].max()))

    def pixelPadding(self) -> float:
        return float(max(TEXT_PX))

    def boundingRect(self) -> QRectF:
        if not len(self._pos):
            return QRectF()
        (x0, y0), (x1, y1) = self._pos.min(axis=0), self._pos.max(axis=0)
        px, py = self.pixelWidth() or 0.0, self.pixelHeight() or 0.0
        pad_x, pad_y = px * TEXT_PX[0], py * TEXT_PX[1]
        return QRectF(x0 - pad_x, y0 - pad_y, (x1 - x0) + 2 * pad_x, (y1 - y0) + 2 * pad_y)

    def viewTransformChanged(self) -> None:
        self.prepareGeometryChange()  # the text's room in data units changes with the zoom
        super().viewTransformChanged()

    def paint(self, painter, *_args) -> None:
        to_pixels = painter.transform()
        painter.resetTransform()  # text keeps its size whatever the zoom
        painter.setPen(self._pen)
        for (x, y), text in zip(self._pos, self._texts, strict=False):
            painter.drawText(to_pixels.map(QPointF(x, y)) + QPointF(4, -4), text)
