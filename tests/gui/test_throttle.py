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
