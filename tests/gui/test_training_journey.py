"""The Train journey end to end with the real engine (preset tiny): click Train, see points and progress,
pause holds, stop is quick, a second run works, closing mid-run leaves no thread behind."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QProgressBar, QPushButton, QSpinBox


def _n_train_points(win) -> int:
    x, _ = win.panels["lossDock"].raw_curve.getData()
    return 0 if x is None else len(x)


@pytest.mark.slow
def test_train_pause_stop_retrain_and_close(window, qtbot):
    session = window.context.session
    combo = window.findChild(QComboBox, "presetCombo")
    combo.setCurrentIndex(combo.findData("tiny"))
    # tiny's 60 steps can all be done before the clicks below on a fast minute; this run ends only by Stop.
    window.findChild(QSpinBox, "stepsSpin").setValue(3_000)
    train = window.findChild(QPushButton, "trainButton")
    pause = window.findChild(QPushButton, "pauseButton")
    stop = window.findChild(QPushButton, "stopButton")
    progress = window.findChild(QProgressBar, "trainProgress")
    assert train.isEnabled() and not stop.isEnabled() and not pause.isEnabled()

    qtbot.mouseClick(train, Qt.MouseButton.LeftButton)
    assert not train.isEnabled() and stop.isEnabled() and pause.isEnabled()
    qtbot.waitUntil(lambda: _n_train_points(window) >= 3, timeout=60_000)
    qtbot.waitUntil(lambda: progress.value() > 0, timeout=10_000)  # the read-outs refresh 4 times a second

    # Pause holds the step count still.
    steps = []
    session.step_logged.connect(lambda e: steps.append(e.step))
    with qtbot.waitSignal(session.run_paused, timeout=30_000):  # the step in progress may still finish
        qtbot.mouseClick(pause, Qt.MouseButton.LeftButton)
        assert session.state == "paused"
    held = len(steps)
    with qtbot.assertNotEmitted(session.step_logged, wait=800):
        pass
    assert len(steps) == held
    shown = _n_train_points(window)
    qtbot.mouseClick(pause, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _n_train_points(window) > shown, timeout=30_000)

    # Stop: training steps end within a second. (The engine then runs its final evaluation and saves the
    # checkpoint before Done, which takes a few seconds more on a busy 2-core machine.)
    steps_after_stop = []
    session.step_logged.connect(lambda e: steps_after_stop.append((time.monotonic(), e.step)))
    drawn_at_finish = []  # what the loss plot holds the moment run_finished is handled (its slot runs first)
    loss_panel = window.panels["lossDock"]
    session.run_finished.connect(
        lambda e: drawn_at_finish.append(
            (loss_panel.raw_curve.getData(), loss_panel.val_curve.getData(), loss_panel.train.n, e.metrics)
        )
    )
    started = time.monotonic()
    with qtbot.waitSignal(session.run_finished, timeout=90_000) as finished:
        qtbot.mouseClick(stop, Qt.MouseButton.LeftButton)
    assert all(t - started < 1.0 for t, _ in steps_after_stop), [
        (round(t - started, 2), s) for t, s in steps_after_stop
    ]
    assert finished.args[0].reason == "stopped"
    # A finished run is drawn at once: the curves end on the run's final step and final validation loss.
    (train_x, _), (val_x, val_y), buffered, metrics = drawn_at_finish[0]
    assert len(train_x) == buffered and train_x[-1] == steps[-1]  # every Step event, the last one included
    assert val_x[-1] == metrics["steps"] and val_y[-1] == pytest.approx(metrics["val_loss"])
    qtbot.waitUntil(train.isEnabled, timeout=2_000)
    assert not stop.isEnabled()

    # A second run works; the curves start again.
    first_dir = session.run_dir
    with qtbot.waitSignal(session.run_started, timeout=60_000):  # the first run's points are gone then
        qtbot.mouseClick(train, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: session.state == "running", timeout=1_000)
    qtbot.waitUntil(lambda: _n_train_points(window) >= 2, timeout=60_000)

    # Closing the window mid-run stops it and waits a bounded time (the autouse fixture checks no QThread is
    # left). The engine is abandoned at its next event, so this is one step unless it is mid-evaluation.
    from gui import workers

    qtbot.waitUntil(lambda: session.run_dir != first_dir, timeout=60_000)  # its own folder, past preparing
    started = time.monotonic()
    window.close()  # asks first; "discard" closes at once and the run folder still gets an end record
    qtbot.mouseClick(window.close_box.findChild(QPushButton, "closeDiscardButton"), Qt.MouseButton.LeftButton)
    assert time.monotonic() - started < 3.5
    qtbot.waitUntil(lambda: not workers.live_threads(), timeout=30_000)
    from core.runlog import read_metrics

    records = read_metrics(session.run_dir)
    assert records[-1]["type"] == "done" and records[-1]["reason"] == "abandoned", records[-1]
