"""Rate limits for the GUI thread: work that events ask for more often than a person can see."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer
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


def paint_ahead(dock: QDockWidget) -> None:
    """Give a dock tabbed behind another the front tab's size and paint it once, off screen. Qt leaves such a
    dock at a stub size, so raising it resized and repainted its plot three times: 73-80 ms on the GUI
    thread; painted ahead, the raise costs 6-10 ms (measured; the paint ahead itself 30-40 ms)."""
    window = dock.parentWidget()
    tabs = window.tabifiedDockWidgets(dock) if hasattr(window, "tabifiedDockWidgets") else []
    front = next((d for d in tabs if on_screen(d)), None)
    if front is None or on_screen(dock) or dock.widget() is None:
        return
    dock.resize(front.size())  # its size only: Qt keeps a dock behind a tab off screen, and it must stay there
    dock.widget().resize(front.widget().size())
    dock.widget().grab()


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


class WhenSettled(QObject):
    """Calls `fn` once the event loop has kept time for a few ticks in a row: the panels have drawn what
    they were given (the launch model takes several event-loop turns: heatmap, thumbnails, bars). At most
    `limit_ms` later in any case."""

    TICK_MS = 20
    ON_TIME_MS = 8  # a tick later than this means the GUI thread was busy
    TICKS = 10

    def __init__(self, parent: QObject, fn: Callable[[], None], limit_ms: int = 2000) -> None:
        super().__init__(parent)
        self._fn = fn
        self._streak = 0
        self._left = limit_ms // self.TICK_MS
        self._last = time.perf_counter()
        self._timer = QTimer(self, interval=self.TICK_MS)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        late_ms = (now - self._last) * 1000 - self.TICK_MS
        self._last = now
        self._streak = self._streak + 1 if late_ms < self.ON_TIME_MS else 0
        self._left -= 1
        if self._streak >= self.TICKS or self._left <= 0:
            self._timer.stop()
            self.deleteLater()
            self._fn()
