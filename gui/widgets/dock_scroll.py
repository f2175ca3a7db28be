"""A scroll area for a dock's panel: the panel fills the dock, and scrolls only below its minimum size.

QScrollArea's own `widgetResizable` sizes panels that contain word-wrapped labels by height-for-width of
their *preferred* sizes (a plot asks for 480 px), so a plot panel scrolled in a dock that had room. Here the
panel is sized from the viewport and its minimum size alone."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget


class DockScroll(QScrollArea):
    def __init__(self, panel: QWidget) -> None:
        super().__init__()
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidgetResizable(False)
        self.setWidget(panel)
        panel.installEventFilter(self)

    def _fit(self) -> None:
        panel = self.widget()
        if panel is None:
            return
        least = panel.minimumSizeHint().expandedTo(panel.minimumSize())
        view = self.viewport().size()
        panel.resize(max(view.width(), least.width()), max(view.height(), least.height()))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:
            self._fit()
        return super().eventFilter(watched, event)
