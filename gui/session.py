"""TrainingSession: one training run at a time, its engine events turned into typed, past-tense Qt signals.

Panels connect to the signals and never see the worker, the thread or the trainer. The session also opens
run folders (metrics.jsonl written by the GUI, the CLI or torchrun) and replays them as one `run_loaded`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from core.events import Done, Eval, Failed, Preparing, Snapshot, Started, Step
from core.runlog import read_run_folder
from gui import workers

TrainerFactory = Callable[..., Any]


def _default_factory(model_cfg, train_cfg, corpus_path=None, out_dir=None, preset="custom"):
    from core.training.trainer import Trainer  # torch is imported here, in the worker thread, never at startup

    return Trainer(model_cfg, train_cfg, corpus_path=corpus_path, out_dir=out_dir, preset=preset)


class TrainingSession(QObject):
    """Owns at most one running EventWorker; state is "idle", "running" or "paused"."""

    run_started = Signal(object)  # Started
    step_logged = Signal(object)  # Step
    evaluated = Signal(object)  # Eval
    snapshot_ready = Signal(object)  # Snapshot
    run_finished = Signal(object)  # Done
    run_failed = Signal(object)  # Failed
    state_changed = Signal(str)
    run_paused = Signal()  # a pause took effect: the engine is idle between two events
    run_resumed = Signal()
    run_loaded = Signal(object)  # RunHistory read from a run folder
    preparing = Signal(object)  # Preparing: a large text being tokenized before the first step

    def __init__(self, trainer_factory: TrainerFactory | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.trainer_factory: TrainerFactory = trainer_factory or _default_factory
        self._worker: workers.EventWorker | None = None
        self._state = "idle"
        self._ended_cleanly = False
        self.run_dir = ""  # the last run's folder (Started.run_dir)
        self.checkpoint_path = ""  # the last run's checkpoint (Done/Failed.checkpoint_path)
        self.last_metrics: dict[str, float] = {}

    @property
    def state(self) -> str:
        return self._state

    def is_holding(self) -> bool:
        """Paused and the engine really idle (the event in flight at the click has arrived)."""
        return self._worker is not None and self._worker.holding

    def is_busy(self) -> bool:
        return self._state != "idle"

    def start(
        self,
        model_cfg,
        train_cfg,
        corpus_path: str | None = None,
        out_dir: str | None = None,
        preset: str = "custom",
    ) -> None:
        """Begin a run in a worker thread; the trainer is constructed there (errors arrive as run_failed)."""
        if self.is_busy():
            raise RuntimeError("a run is already going")
        factory = self.trainer_factory
        worker = workers.EventWorker(
            lambda: factory(model_cfg, train_cfg, corpus_path=corpus_path, out_dir=out_dir, preset=preset)
        )
        worker.event_emitted.connect(self._on_event_emitted)
        worker.paused.connect(self.run_paused)
        worker.resumed.connect(self.run_resumed)
        worker.crashed.connect(self._on_crashed)
        worker.ended.connect(self._on_ended)
        self._worker = worker
        self._ended_cleanly = False
        self._set_state("running")
        workers.start(worker)

    def pause(self) -> None:
        if self._worker is not None and self._state == "running":
            self._worker.pause()
            self._set_state("paused")

    def resume(self) -> None:
        if self._worker is not None and self._state == "paused":
            self._worker.resume()
            self._set_state("running")

    def stop(self) -> None:
        if self._worker is not None:
            self._worker.stop()

    def shutdown(self, timeout_s: float = 3.0) -> bool:
        """Stop everything and wait a bounded time (window close). True when every thread has ended."""
        self.stop()
        return workers.stop_all(timeout_s)

    def open_run_folder(self, path: str, on_error: Callable[[str], None] | None = None) -> None:
        """Parse a run folder in a worker, then emit run_loaded (or call on_error with one line)."""
        workers.call_in_worker(lambda: read_run_folder(path), self.run_loaded.emit, on_error)

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self.state_changed.emit(state)

    @Slot(object)
    def _on_event_emitted(self, event: Any) -> None:
        """The one place an engine event becomes a signal (what the session remembers, then the signal)."""
        if isinstance(event, Started):
            self.run_dir = event.run_dir
        elif isinstance(event, (Done, Failed)):
            self._ended_cleanly = True
            self.checkpoint_path = event.checkpoint_path or self.checkpoint_path
            if isinstance(event, Done):
                self.last_metrics = dict(event.metrics)
        signal = {
            Started: self.run_started,
            Step: self.step_logged,
            Eval: self.evaluated,
            Snapshot: self.snapshot_ready,
            Preparing: self.preparing,
            Done: self.run_finished,
            Failed: self.run_failed,
        }[type(event)]
        signal.emit(event)

    @Slot(str)
    def _on_crashed(self, message: str) -> None:
        self._ended_cleanly = True
        self.run_failed.emit(Failed(message))

    @Slot()
    def _on_ended(self) -> None:
        if not self._ended_cleanly:  # stopped before the trainer existed, or a generator that just returned
            self.run_finished.emit(Done("stopped", {}, ""))
        self._worker = None
        self._set_state("idle")
