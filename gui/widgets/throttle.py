"""Rate limits for the GUI thread: work that events ask for more often than a person can see."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QDockWidget, QWidget


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


def _dock_of(widget: QWidget) -> QDockWidget | None:
    while widget is not None and not isinstance(widget, QDockWidget):
        widget = widget.parentWidget()
    return widget


def on_screen(widget: QWidget) -> bool:
    """The user can see `widget`'s panel. A dock tabbed behind another does not count: at first launch Qt
    leaves such docks (and everything in them) "visible", with an empty visible region."""
    if not widget.isVisible():
        return False
    dock = _dock_of(widget)
    return dock is None or (dock.isVisible() and not dock.visibleRegion().isEmpty())


class WhenVisible:
    """Holds the latest update for a widget the user cannot see (a tab behind another dock, a closed dock)
    and applies it when the widget comes into view: hidden panels cost nothing while a run streams.

    `hold_unshown=False` applies updates to a widget outside any shown window at once (a panel a test
    drives without showing it); such a widget then waits only while its dock is behind another."""

    def __init__(self, widget: QWidget, fn: Callable[..., None], hold_unshown: bool = True) -> None:
        self._widget = widget
        self._fn = fn
        self._hold_unshown = hold_unshown
        self._pending: tuple | None = None
        self._watched: QDockWidget | None = None

    def __call__(self, *args) -> None:
        if self._visible():
            self._pending = None
            self._fn(*args)
            return
        self._pending = args
        dock = _dock_of(self._widget)
        if dock is not None and dock is not self._watched:
            # A tab brought to the front gets no show event at first launch, only this signal (emitted inside
            # raise_(), so whoever raised the dock reads the panel updated).
            dock.visibilityChanged.connect(lambda shown: shown and self.shown())
            self._watched = dock

    @property
    def pending(self) -> bool:
        """An update is held until the widget comes into view."""
        return self._pending is not None

    def cancel(self) -> None:
        """Drop a held update (newer state has replaced what it would show)."""
        self._pending = None

    def _visible(self) -> bool:
        if not self._hold_unshown and not self._widget.window().isVisible():
            return True
        return on_screen(self._widget)

    def shown(self) -> None:
        """Call from the widget's showEvent (the dock's visibilityChanged calls it too)."""
        if self._pending is not None and self._visible():
            args, self._pending = self._pending, None
            self._fn(*args)
