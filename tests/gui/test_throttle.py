"""The GUI thread's rate limits: the first update shows at once, a burst costs one more, none is lost."""

from PySide6.QtWidgets import QWidget

from gui.widgets.throttle import Throttled, WhenVisible


def test_throttled_shows_first_at_once_then_only_the_latest(qtbot):
    owner = QWidget()
    qtbot.addWidget(owner)
    seen = []
    throttled = Throttled(owner, 50, seen.append)
    for i in range(10):
        throttled(i)
    assert seen == [0]  # the first at once; the burst waits
    qtbot.waitUntil(lambda: seen == [0, 9], timeout=2000)  # then only the latest
    throttled(10)
    throttled(11)
    throttled.flush()  # a final state can be drawn over a held update, never under it
    assert seen[-1] == 11


def test_when_visible_holds_updates_for_a_hidden_widget(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    seen = []
    update = WhenVisible(widget, seen.append)
    update(1)
    update(2)
    assert seen == []
    widget.show()
    update.shown()
    assert seen == [2]
    update(3)
    assert seen == [2, 3]


def _tabbed_window(qtbot):
    """A main window with two docks in one tab group, the first in front, as the app's first launch has."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QDockWidget, QMainWindow

    window = QMainWindow()
    qtbot.addWidget(window)
    docks = []
    for name in ("front", "behind"):
        dock = QDockWidget(name, window)
        dock.setObjectName(name)
        dock.setWidget(QWidget())
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        docks.append(dock)
    window.tabifyDockWidget(docks[0], docks[1])
    docks[0].raise_()
    window.resize(400, 300)
    window.show()
    qtbot.waitExposed(window)
    return window, docks


def test_when_visible_holds_updates_for_a_dock_tabbed_behind_another_until_it_is_raised(qtbot):
    """Qt leaves such a dock "visible" at first launch: only its empty visible region says it is hidden."""
    _window, (front, behind) = _tabbed_window(qtbot)  # the window kept alive: the docks are its children
    assert behind.widget().isVisible()  # the trap: isVisible() alone would let every update through
    seen_front, seen_behind = [], []
    WhenVisible(front.widget(), seen_front.append)(1)
    update = WhenVisible(behind.widget(), seen_behind.append, hold_unshown=False)
    update(1)
    update(2)
    assert seen_front == [1] and seen_behind == [] and update.pending
    behind.raise_()  # its tab brought to the front: the held update is applied inside raise_()
    assert seen_behind == [2] and not update.pending
    update(3)
    assert seen_behind == [2, 3]
    front.raise_()
    update(4)
    update.cancel()  # newer state replaced it: nothing is applied when shown again
    behind.raise_()
    assert seen_behind == [2, 3]


def test_hold_unshown_false_applies_at_once_outside_a_shown_window(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    seen = []
    WhenVisible(widget, seen.append, hold_unshown=False)(1)
    assert seen == [1]


def test_a_tab_painted_ahead_is_raised_without_a_resize(qtbot):
    """Qt leaves a dock behind a tab at a stub size: raising it resized (and repainted) its plot again."""
    from PySide6.QtCore import QEvent, QObject

    from gui.widgets.throttle import paint_ahead

    _window, (front, behind) = _tabbed_window(qtbot)
    paint_ahead(behind)
    assert behind.widget().size() == front.widget().size()
    assert not behind.geometry().intersects(front.geometry())  # still off screen: its title bar not drawn over

    class _Resizes(QObject):
        count = 0

        def eventFilter(self, _watched, event):
            self.count += event.type() == QEvent.Type.Resize
            return False

    resizes = _Resizes()
    behind.widget().installEventFilter(resizes)
    behind.raise_()
    qtbot.waitUntil(lambda: not behind.visibleRegion().isEmpty(), timeout=2000)
    assert resizes.count == 0
    paint_ahead(behind)  # in front now: nothing to do, nothing changed
    assert behind.widget().size() == front.widget().size()


def test_when_settled_waits_for_the_event_loop_to_keep_time(qtbot):
    import time

    from gui.widgets.throttle import WhenSettled

    owner = QWidget()
    qtbot.addWidget(owner)
    fired = []
    started = time.perf_counter()
    WhenSettled(owner, lambda: fired.append(time.perf_counter() - started))
    qtbot.waitUntil(lambda: bool(fired), timeout=3000)
    assert fired[0] >= WhenSettled.TICKS * WhenSettled.TICK_MS / 1000  # a calm streak, not the first tick

    fired.clear()
    busy = []

    def hog():  # the GUI thread busy 30 ms every 20: never calm, so the limit decides
        time.sleep(0.03)
        busy.append(1)

    from PySide6.QtCore import QTimer

    hogging = QTimer(owner, interval=20)
    hogging.timeout.connect(hog)
    hogging.start()
    WhenSettled(owner, lambda: fired.append(len(busy)), limit_ms=400)
    qtbot.waitUntil(lambda: bool(fired), timeout=5000)
    hogging.stop()
    assert fired[0] >= 5  # it waited through the busy turns, and still fired
