"""TrainingSession and the training panel driven by a scripted fake trainer: fast and deterministic."""

from __future__ import annotations

import json
import time

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton

from core.config import ConfigError
from core.runlog import RunFolderError, read_run_folder
from gui.session import TrainingSession


def _click(qtbot, win, name):
    qtbot.mouseClick(win.findChild(QPushButton, name), Qt.MouseButton.LeftButton)


def test_signals_arrive_in_order_and_state_returns_to_idle(qtbot, fake_trainer):
    session = TrainingSession(fake_trainer(steps=20, dt=0.001))
    seen, states = [], []
    for name in ("run_started", "step_logged", "evaluated", "snapshot_ready", "run_finished"):
        getattr(session, name).connect(lambda e, name=name: seen.append(name))
    session.state_changed.connect(states.append)
    from core.config import PRESETS

    p = PRESETS["tiny"]
    with qtbot.waitSignal(session.run_finished, timeout=5000):
        session.start(p.model, p.train)
    qtbot.waitUntil(lambda: session.state == "idle", timeout=2000)
    assert seen[0] == "run_started" and seen[-1] == "run_finished"
    assert (
        seen.count("step_logged") == 20 and seen.count("evaluated") == 2 and seen.count("snapshot_ready") == 2
    )
    assert states == ["running", "idle"]


def test_pause_holds_and_stop_releases_a_paused_worker(window, qtbot, fake_trainer):
    made = fake_trainer.instances
    session = window.context.session
    session.trainer_factory = fake_trainer(dt=0.002)
    _click(qtbot, window, "trainButton")
    qtbot.waitUntil(lambda: bool(made) and made[-1].pulled > 5, timeout=3000)
    with qtbot.waitSignal(session.run_paused, timeout=1000):  # arrives after the event in flight at the click
        _click(qtbot, window, "pauseButton")
    assert session.state == "paused" and session.is_holding()
    assert window.findChild(QPushButton, "pauseButton").text() in ("继续", "Resume")
    held = made[-1].pulled
    with qtbot.assertNotEmitted(session.step_logged, wait=300):  # paused: the engine is not asked for more
        pass
    assert made[-1].pulled == held
    started = time.monotonic()
    with qtbot.waitSignal(session.run_finished, timeout=1000) as done:
        _click(qtbot, window, "stopButton")
    assert time.monotonic() - started < 1.0 and done.args[0].reason == "stopped"
    qtbot.waitUntil(lambda: window.findChild(QPushButton, "trainButton").isEnabled(), timeout=1000)


def test_engine_failure_shows_a_message_and_the_window_stays_usable(window, qtbot, fake_trainer):
    session = window.context.session
    message = window.findChild(QLabel, "trainingMessage")
    for options, text in (({"fail_at": 3}, "loss is NaN"), ({"raise_at": 3}, "injected engine crash")):
        session.trainer_factory = fake_trainer(**options)
        with qtbot.waitSignal(session.run_failed, timeout=3000):
            _click(qtbot, window, "trainButton")
        qtbot.waitUntil(lambda: window.findChild(QPushButton, "trainButton").isEnabled(), timeout=2000)
        assert text in message.text()
        assert text in window.statusBar().currentMessage()
    # and a good run still works afterwards
    session.trainer_factory = fake_trainer(steps=12, dt=0.001)
    with qtbot.waitSignal(session.run_finished, timeout=3000):
        _click(qtbot, window, "trainButton")
    qtbot.waitUntil(lambda: session.state == "idle", timeout=2000)


def test_constructor_error_and_bad_form_values_become_messages(window, qtbot):
    session = window.context.session

    def refuse(*args, **kwargs):
        raise ConfigError("n_layer must be between 1 and 48, not 99")

    session.trainer_factory = refuse
    with qtbot.waitSignal(session.run_failed, timeout=3000):
        _click(qtbot, window, "trainButton")
    qtbot.waitUntil(lambda: session.state == "idle", timeout=2000)
    assert "n_layer" in window.findChild(QLabel, "trainingMessage").text()
    panel = window.panels["trainingDock"]
    panel.form.width.setValue(30)
    panel.form.heads.setValue(4)  # 30 % 4 != 0: the engine's own validate() rejects it, nothing starts
    _click(qtbot, window, "trainButton")
    assert session.state == "idle" and "divisible" in panel.message.text()


def _close_and_answer(qtbot, window, button: str):
    window.close()
    box = window.close_box
    assert window.isVisible() and box.isVisible()  # asked first: nothing is lost without a question
    qtbot.mouseClick(box.findChild(QPushButton, button), Qt.MouseButton.LeftButton)


def test_closing_mid_run_asks_and_cancel_keeps_the_run_going(window, qtbot, fake_trainer):
    session = window.context.session
    session.trainer_factory = fake_trainer(dt=0.01)
    _click(qtbot, window, "trainButton")
    qtbot.waitUntil(lambda: session.state == "running", timeout=1000)
    _close_and_answer(qtbot, window, "closeCancelButton")
    qtbot.wait(50)
    assert window.isVisible() and session.state == "running"
    with qtbot.waitSignal(session.run_finished, timeout=3000):
        session.stop()


def test_close_mid_run_stop_and_save_closes_once_the_run_has_ended(window, qtbot, fake_trainer):
    session = window.context.session
    session.trainer_factory = fake_trainer(dt=0.01)
    ended = []
    session.run_finished.connect(ended.append)
    _click(qtbot, window, "trainButton")
    qtbot.waitUntil(lambda: session.state == "running", timeout=1000)
    _close_and_answer(qtbot, window, "closeSaveButton")
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=3000)
    assert [e.reason for e in ended] == ["stopped"]  # the run's own end: final scores and checkpoint
    from gui import workers

    # A panel may still be reading the finished run in a worker (the word-vector frames): it ends by itself.
    qtbot.waitUntil(lambda: not workers.live_threads(), timeout=5000)


def test_close_mid_run_discard_closes_at_once(window, qtbot, fake_trainer):
    session = window.context.session
    session.trainer_factory = fake_trainer(dt=0.01)
    _click(qtbot, window, "trainButton")
    qtbot.waitUntil(lambda: session.state == "running", timeout=1000)
    started = time.monotonic()
    _close_and_answer(qtbot, window, "closeDiscardButton")
    assert time.monotonic() - started < 3.5 and not window.isVisible()
    from gui import workers

    assert not workers.live_threads()


def test_a_failure_message_does_not_outlive_the_next_run(window, qtbot, fake_trainer):
    session = window.context.session
    message = window.findChild(QLabel, "trainingMessage")
    session.trainer_factory = fake_trainer(fail_at=3)
    with qtbot.waitSignal(session.run_failed, timeout=3000):
        _click(qtbot, window, "trainButton")
    qtbot.waitUntil(lambda: session.state == "idle", timeout=2000)
    assert "injected" in message.text() and "injected" in window.statusBar().currentMessage()
    session.trainer_factory = fake_trainer(steps=5, dt=0.001)
    with qtbot.waitSignal(session.run_finished, timeout=3000):
        _click(qtbot, window, "trainButton")
    assert message.text() == "" and "injected" not in window.statusBar().currentMessage()


def _write_run(folder, steps=50, bad_lines=2):
    lines = [
        json.dumps(
            {
                "type": "started",
                "run_dir": str(folder),
                "preset": "tiny",
                "n_params": 10,
                "total_steps": steps,
                "total_seconds": 0.0,
                "vocab_size": 9,
                "corpus_chars": 99,
            }
        )
    ]
    for s in range(1, steps + 1):
        lines.append(
            json.dumps(
                {
                    "type": "step",
                    "step": s,
                    "tokens": s * 10,
                    "loss": 5.0 - s * 0.05,
                    "lr": 1e-3,
                    "tokens_per_s": 1e3,
                    "flops": 1e6 * s,
                    "elapsed_s": s * 0.1,
                    "progress": s / steps,
                }
            )
        )
        if s % 10 == 0:
            lines.append(json.dumps({"type": "eval", "step": s, "val_loss": 5.1 - s * 0.05, "metrics": {}}))
    lines += ["{not json", json.dumps({"type": "step"})][:bad_lines]
    lines.append(
        json.dumps({"type": "done", "reason": "finished", "metrics": {"steps": steps}, "checkpoint_path": ""})
    )
    (folder / "metrics.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_read_run_folder_skips_bad_lines(tmp_path):
    _write_run(tmp_path)
    history = read_run_folder(str(tmp_path))
    assert len(history.steps) == 50 and len(history.evals) == 5 and history.skipped_lines == 2
    assert history.started.preset == "tiny" and history.end.reason == "finished"
    (tmp_path / "empty").mkdir()
    for folder in (tmp_path / "empty", tmp_path / "missing"):
        try:
            read_run_folder(str(folder))
        except RunFolderError as exc:
            assert "metrics.jsonl" in str(exc)
        else:
            raise AssertionError("expected RunFolderError")


def test_open_run_folder_shows_its_curves(window, qtbot, tmp_path):
    _write_run(tmp_path)
    loss = window.panels["lossDock"]
    with qtbot.waitSignal(window.context.session.run_loaded, timeout=3000):
        window.open_run_folder(str(tmp_path))
    assert len(loss.raw_curve.getData()[0]) == 50 and len(loss.val_curve.getData()[0]) == 5
    (tmp_path / "nothing").mkdir()
    window.open_run_folder(str(tmp_path / "nothing"))
    qtbot.waitUntil(lambda: "metrics.jsonl" in window.statusBar().currentMessage(), timeout=3000)


def test_a_worker_result_for_a_deleted_widget_is_dropped(qtbot):
    """A window closed while its tokenizer trained: the result must not reach the deleted panel."""
    import threading

    from PySide6.QtWidgets import QWidget

    from gui import workers

    owner, other = QWidget(), QWidget()
    release = threading.Event()
    seen = []
    workers.call_in_worker(lambda: release.wait(5) and "late", seen.append, owner=owner)
    workers.call_in_worker(lambda: "kept", seen.append, owner=other)
    qtbot.waitUntil(lambda: seen == ["kept"], timeout=5000)
    owner.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(owner), timeout=5000)
    release.set()
    qtbot.waitUntil(lambda: not workers.live_threads(), timeout=5000)
    qtbot.wait(50)
    assert seen == ["kept"]
    other.deleteLater()


def test_garbage_is_collected_on_the_gui_thread_only(qtbot):
    """Where the window is built, automatic collection is turned off (it could free Qt objects in a worker
    thread, where PySide deadlocks) and the GUI thread collects cycles instead."""
    import gc
    import weakref

    from gui import create_main_window, workers

    window = create_main_window()
    qtbot.addWidget(window)
    workers.call_in_worker(lambda: None)
    qtbot.waitUntil(lambda: not workers.live_threads(), timeout=5000)
    assert not gc.isenabled()

    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a  # a cycle: only the collector can free it
    gone = weakref.ref(a)
    del a, b
    keep = [Node() for _ in range(gc.get_threshold()[0] + 1)]  # past generation 0's threshold
    qtbot.waitUntil(lambda: gone() is None, timeout=5000)
    del keep


def test_preparing_a_large_text_is_shown_on_the_progress_bar(window, qtbot):
    from PySide6.QtWidgets import QProgressBar

    from core.events import Done, Preparing

    class Preparer:
        def __init__(self, *args, **kwargs):
            pass

        def stop(self):
            pass

        def run(self):
            yield Preparing("encoding", 50, 100)
            time.sleep(0.3)
            yield Done("stopped", {}, "")

    session = window.context.session
    session.trainer_factory = Preparer
    bar = window.findChild(QProgressBar, "trainProgress")
    shown = []  # what the bar says when the event is handled (the panel's slot runs first)
    session.preparing.connect(lambda _e: shown.append(bar.format()))
    with qtbot.waitSignal(session.preparing, timeout=3000):
        _click(qtbot, window, "trainButton")
    assert "50%" in shown[0]
    qtbot.waitUntil(lambda: session.state == "idle", timeout=3000)


def test_an_engine_thread_yields_the_cpu_to_the_window(qtbot):
    """On 2 cores the GUI thread competed with torch's threads as an equal: paints took twice as long."""
    import os
    import sys
    import threading

    from gui import workers

    class _Engine:
        def run(self):
            yield os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

        def stop(self):
            pass

    window_nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    worker = workers.EventWorker(_Engine)
    with qtbot.waitSignal(worker.event_emitted, timeout=5000) as seen:
        workers.start(worker)
    lowered = window_nice + workers.ENGINE_NICE if sys.platform.startswith("linux") else window_nice
    assert workers.ENGINE_NICE > 0 and seen.args[0] == min(lowered, 19)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == window_nice  # unchanged


def test_close_mid_run_stop_and_save_gives_up_on_a_run_that_does_not_end(window, qtbot, fake_trainer):
    """A final save that never comes must not hold the window open: after the guard's timeout it closes
    anyway (the run is abandoned at its next event)."""
    session = window.context.session
    session.trainer_factory = fake_trainer(dt=0.01)
    _click(qtbot, window, "trainButton")
    qtbot.waitUntil(lambda: session.state == "running" and bool(fake_trainer.instances), timeout=1000)
    fake_trainer.instances[-1].stop = lambda: None  # deaf to Stop: its end (and save) never comes
    window._close_guard._timer.setInterval(200)
    _close_and_answer(qtbot, window, "closeSaveButton")
    qtbot.wait(100)
    assert window.isVisible()  # still waiting for the save
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)
