"""The only place the GUI starts threads. Two kinds of worker, each a QObject moved onto its own QThread:

- `EventWorker` iterates an engine generator (the Trainer) and re-emits every event; pause blocks between
  `next()` calls, stop asks the engine to stop and releases a paused worker.
- `CallWorker` runs one function (load a checkpoint, train a tokenizer, parse a run folder) and emits the
  result or a one-line error.

Every thread started here is registered until it has finished, so the window (and the tests) can stop
and wait for all of them with a bound."""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, QTimer, Signal, Slot

_live: list[tuple[QThread, QObject, QObject | None]] = []
FIRST_FRAME_S = 0.15  # an engine worker starts computing this long after it is started
# An engine worker's thread (and torch's compute threads, which inherit it) runs this much nicer on Linux,
# so the window's thread wins the core whenever it has something to draw. The journey's p99 lateness from
# the Train click fell from 16.6-20.2 ms to 10.5-11.5 (benchmarks/ui_latency.py --journey, 2 cores).
ENGINE_NICE = 5


def lower_this_threads_priority() -> None:
    """Make the calling thread yield the CPU to the GUI thread (Linux threads have their own nice value;
    elsewhere this does nothing: macOS and Windows set priorities per process)."""
    if sys.platform.startswith("linux"):
        try:
            me = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, me, min(19, os.getpriority(os.PRIO_PROCESS, me) + ENGINE_NICE))
        except OSError:  # not allowed here: the run still works, the window is only less smooth
            pass


def one_line(exc: BaseException) -> str:
    """A person-readable message: the exception's class and its first line."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class EventWorker(QObject):
    """Pulls events from `make()`'s object (something with `run()` and `stop()`), one at a time."""

    event_emitted = Signal(object)
    crashed = Signal(str)
    ended = Signal()
    paused = Signal()  # the engine is idle between two events (a pause took effect)
    resumed = Signal()

    def __init__(self, make: Callable[[], Any]) -> None:
        super().__init__()
        self._make = make
        self._engine: Any = None
        self._lock = threading.Lock()
        self._resume = threading.Event()
        self._resume.set()
        self._stop_requested = False
        self._abandon = False
        self.holding = False  # True while paused and blocked between two events (nothing is computed)

    @Slot()
    def run(self) -> None:
        # A few frames for the window first: the repaint a Train click causes (the form, the loss curve
        # brought to the front, every panel's run_started) takes the GIL once per widget, and each take
        # waited for a run's pure-Python start. Journey max from the click: 48-62 ms with 50 ms here,
        # 35-44 ms with 150 ms; the first step comes 0.6-0.7 s after the click either way.
        time.sleep(FIRST_FRAME_S)
        lower_this_threads_priority()  # before torch starts its threads from this one
        try:
            engine = self._make()  # built here: heavy imports and corpus work stay off the GUI thread
            with self._lock:
                self._engine = engine
                stop_now = self._stop_requested
            if stop_now:
                engine.stop()
            events: Iterator = engine.run()
            for n, event in enumerate(events):
                if n == 0:
                    # A full garbage collection walks every object (torch, Qt wrappers, plots): 40-130 ms
                    # measured here, with the GIL held, so the window stalls that long. What exists once the
                    # engine is set up lives as long as the run; frozen, collections skip it.
                    gc.freeze()
                self.event_emitted.emit(event)
                if not self._resume.is_set():  # pause: simply do not ask for the next event
                    self.holding = True
                    self.paused.emit()
                    self._resume.wait()
                    self.holding = False
                    self.resumed.emit()
                if self._abandon:  # window closing: skip the engine's final evaluation and save
                    events.close()
                    break
        except BaseException as exc:  # noqa: BLE001 - any engine failure becomes a message, never a crash
            self.crashed.emit(one_line(exc))
        finally:
            self.ended.emit()

    # The three methods below are called from the GUI thread; they only touch thread-safe state.
    def pause(self) -> None:
        self._resume.clear()

    def resume(self) -> None:
        self._resume.set()

    def stop(self) -> None:
        with self._lock:
            self._stop_requested = True
            engine = self._engine
        if engine is not None:
            engine.stop()
        self._resume.set()  # a paused worker must wake up to see the stop

    def abandon(self) -> None:
        """Stop, and do not wait for the run's epilogue: close the generator at its next event."""
        self._abandon = True
        self.stop()


class CallWorker(QObject):
    """Runs one function off the GUI thread."""

    succeeded = Signal(object)
    crashed = Signal(str)
    ended = Signal()

    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__()
        self._fn = fn

    @Slot()
    def run(self) -> None:
        try:
            result = self._fn()
        except BaseException as exc:  # noqa: BLE001
            self.crashed.emit(one_line(exc))
        else:
            self.succeeded.emit(result)
        finally:
            self.ended.emit()


class _Relay(QObject):
    """Lives on the GUI thread so that plain callables connected through it run there, not in the worker."""

    def __init__(
        self,
        on_result: Callable[[Any], None] | None,
        on_error: Callable[[str], None] | None,
        owner: QObject | None = None,
    ) -> None:
        super().__init__()
        self._on_result = on_result
        self._on_error = on_error
        self._owner = owner
        self.delivered = False  # set once the worker's last signal has reached the GUI thread

    def _owner_gone(self) -> bool:
        """The widget the callbacks belong to was deleted (its window closed) while the work ran."""
        return self._owner is not None and not shiboken6.isValid(self._owner)

    @Slot(object)
    def result(self, value: Any) -> None:
        if self._on_result is not None and not self._owner_gone():
            self._on_result(value)

    @Slot(str)
    def error(self, message: str) -> None:
        if self._on_error is not None and not self._owner_gone():
            self._on_error(message)

    @Slot()
    def done(self) -> None:
        self.delivered = True
        if _reaper is not None:
            _reaper.reap()


class _Reaper(QObject):
    """Forgets a thread on the GUI thread once it has finished (never from inside the dying thread) and its
    relay has delivered — otherwise a queued result could be dropped with the relay."""

    @Slot()
    def reap(self) -> None:
        for entry in list(_live):
            if entry[0].isFinished() and getattr(entry[2], "delivered", True):
                entry[0].wait()
                _live.remove(entry)
                # No gc.unfreeze() here: it would hand torch's ~150,000 objects, frozen at start-up, back to
                # every full collection (130-440 ms stalls). A finished run's objects are freed by reference
                # counting; the 30-run soak test measures what stays.


class _GuiThreadGc(QObject):
    """Automatic garbage collection is off; this collects on the GUI thread instead, by the same thresholds.
    A collection run from a worker thread can free Qt objects (a closed window's widgets) there, and PySide
    then deadlocks in their destructors: seen here as a training test that hung in an import."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        gc.disable()
        self.deferred = False  # True while the engine imports (see defer_collections)
        self._timer = QTimer(self, interval=250)
        self._timer.timeout.connect(self.collect)
        self._timer.start()

    @Slot()
    def collect(self) -> None:
        if self.deferred:
            return
        counts, thresholds = gc.get_count(), gc.get_threshold()
        for generation in (2, 1, 0):
            if counts[generation] > thresholds[generation]:
                gc.collect(generation)
                return


_reaper: _Reaper | None = None
_collector: _GuiThreadGc | None = None


def collect_garbage_on_gui_thread() -> None:
    """Turn automatic garbage collection off and collect from a GUI-thread timer instead. Call it once, before
    the first worker starts (the window does, where it is built; the GUI tests' fixture does too)."""
    global _collector
    if _collector is None:
        _collector = _GuiThreadGc(QCoreApplication.instance())


def defer_collections(defer: bool) -> None:
    """While torch imports, its ~150,000 new objects (all living as long as the process) filled every
    generation between two timer ticks and each collection walked them for nothing: 60-210 ms stalls at
    launch. The caller freezes them (gc.freeze) once imported, then collections resume."""
    if _collector is not None:
        _collector.deferred = defer


def start(worker: QObject, keep: QObject | None = None) -> QThread:
    """Move `worker` (with `run` and `ended`) onto a new QThread, start it, and keep both alive until done."""
    global _reaper
    if _reaper is None:
        _reaper = _Reaper()
    thread = QThread()
    thread.setObjectName(type(worker).__name__)
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    # Direct: quit from the worker thread itself, so a GUI thread blocked in wait() is not needed to relay it.
    worker.ended.connect(thread.quit, Qt.ConnectionType.DirectConnection)
    thread.finished.connect(_reaper.reap)
    _live.append((thread, worker, keep))
    thread.start()
    return thread


def call_in_worker(
    fn: Callable[[], Any],
    on_result: Callable[[Any], None] | None = None,
    on_error: Callable[[str], None] | None = None,
    owner: QObject | None = None,
) -> CallWorker:
    """Run `fn()` in a thread; the callbacks run later on the GUI thread, unless `owner` (the widget they
    update) has been deleted by then."""
    worker = CallWorker(fn)
    relay = _Relay(on_result, on_error, owner)
    worker.succeeded.connect(relay.result)
    worker.crashed.connect(relay.error)
    worker.ended.connect(relay.done)  # queued after the result, from the same thread: arrives after it
    start(worker, keep=relay)
    return worker


def live_threads() -> list[QThread]:
    """Threads started here that have not finished (a test fixture asserts this ends empty)."""
    return [entry[0] for entry in _live if entry[0].isRunning()]


def stop_all(timeout_s: float = 3.0) -> bool:
    """Abandon every event worker, then wait up to `timeout_s` in total. True when all have ended."""
    for entry in list(_live):
        if isinstance(entry[1], EventWorker):
            entry[1].abandon()
    deadline = time.monotonic() + timeout_s
    for entry in list(_live):
        remaining_ms = max(0, int((deadline - time.monotonic()) * 1000))
        entry[0].wait(remaining_ms)
    return not live_threads()


STARTUP_DELAY_MS = 250  # background work a panel wants at launch waits this long after the first paint


def after_startup(receiver: QObject, fn: Callable[[], None], delay_ms: int = STARTUP_DELAY_MS) -> None:
    """Call `fn` on the GUI thread `delay_ms` after the event loop has started, i.e. after the window's first
    paint. Panels are built before the window is shown; a worker started then (a tokenizer to train, torch
    to import) holds the GIL much of the time and made building the rest of the window ~4x slower."""
    QTimer.singleShot(0, receiver, lambda: QTimer.singleShot(delay_ms, receiver, fn))
