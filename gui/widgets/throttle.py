"""Rate limits for the GUI thread: work that events ask for more often than a person can see."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QWidget


class Throttled(QObject):
    """Calls `fn` at once when idle, then at most once per `interval_ms` with the latest arguments,
    so the first update shows immediately and a burst of events costs one redraw per interval."""

    def __init__(self, parent: QObject, interval_ms: int, fn: Callable[..., None]) -> None:
        super().__init__(parent)
        self._fn = fn
        self._pending: tuple | None = None
        self._timer = QTimer(self, singleShot=True, interval=interval_ms)
        self._timer.timeout.connect(self.flush)

    def __call__(self, *args) -> None:
        if self._timer.isActive():
            self._pending = args
            return
        self._fn(*args)
        self._timer.start()

    def flush(self) -> None:
        """Apply a held update now (before a final state is drawn over it)."""
        if self._pending is not None:
            args, self._pending = self._pending, None
            self._fn(*args)
            self._timer.start()


class WhenVisible:
    """Holds the latest update for a widget that is hidden (a tab behind another dock, a closed dock)
    and applies it when the widget is shown: hidden panels cost nothing while a run streams."""

    def __init__(self, widget: QWidget, fn: Callable[..., None]) -> None:
        self._widget = widget
        self._fn = fn
        self._pending: tuple | None = None

    def __call__(self, *args) -> None:
        if self._widget.isVisible():
            self._pending = None
            self._fn(*args)
        else:
            self._pending = args

    def shown(self) -> None:
        """Call from the widget's showEvent."""
        if self._pending is not None:
            args, self._pending = self._pending, None
            self._fn(*args)
