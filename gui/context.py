"""AppContext: what every panel is given — the training session, the settings, and the current model.

Kept small on purpose: panels talk to the engine only through `session` signals and `model_loaded`."""

from __future__ import annotations

import gc
import os
import sys
from typing import Any

from PySide6.QtCore import QObject, QSettings, QStandardPaths, Signal

from core import resources
from gui import i18n, workers
from gui.session import TrainingSession
from gui.widgets.throttle import WhenSettled


def make_settings(path: str | None = None) -> QSettings:
    """An ini file at `path` (tests, portable use), else $LLM_EXPLORER_SETTINGS, else the user's settings."""
    path = path or os.environ.get("LLM_EXPLORER_SETTINGS")
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "llm-explorer", "llm-explorer")


def runs_root() -> str:
    """Where GUI runs write metrics.jsonl and checkpoints ($LLM_EXPLORER_RUNS overrides)."""
    root = os.environ.get("LLM_EXPLORER_RUNS")
    if not root:
        base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation)
        root = os.path.join(base or os.path.expanduser("~/.llm-explorer"), "runs")
    return root


# What training and inspecting import. Importing torch holds the GIL for most of a second at a time (loading its
# extension modules cannot be split), so the window does it once, right after its first paint, while Train
# still says "loading": the user never meets that freeze mid-action.
ENGINE_MODULES = (
    "torch",
    "core.model.checkpoint",
    "core.training.trainer",
    "core.analysis.probes",
)


def _import_engine() -> None:
    from importlib import import_module

    for name in ENGINE_MODULES:
        import_module(name)
    # The first step and the first forward with attention weights (the inspectors' path) pay one-off costs
    # (kernels' first dispatch, ~20 ms more than later ones): a throwaway step on a tiny model pays them now.
    import torch

    from core.analysis.probes import forward_eval
    from core.config import ModelConfig, TrainConfig
    from core.model.gpt import GPT
    from core.training.optim import adamw

    model = GPT(ModelConfig(vocab_size=8, n_layer=1, n_head=2, n_embd=8, block_size=4))
    optimizer = adamw(model, TrainConfig())
    model.wte.weight.sum().backward()
    torch.nn.utils.clip_grad_norm_(list(model.parameters()), 1.0)
    optimizer.step()
    with torch.no_grad():
        forward_eval(model, [1, 2], True)
    # The first Qt call whose arguments match no overload (pyqtgraph's painting tries some) makes PySide map
    # the types of every loaded module, ~2,000 once torch is in: 60-370 ms in the first paint after Train.
    from PySide6.QtCore import QSize

    try:
        QSize(1, "")  # type: ignore[call-overload]  # fails on purpose: the map is built here, in the worker
    except TypeError:
        pass


class AppContext(QObject):
    """Shared by all panels. `model_loaded(Checkpoint)` fires whenever a new model becomes current."""

    model_loaded = Signal(object)
    message_posted = Signal(str)  # one line for the status bar (errors from workers included)
    engine_ready = Signal()  # the engine's modules (torch first) are imported; Train may be clicked

    def __init__(
        self, settings: QSettings, session: TrainingSession | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self.session = session or TrainingSession(parent=self)
        self._model: Any = None
        self.engine_loading = False  # True from the window's construction until the engine is ready
        self.session.run_finished.connect(self._on_run_finished)

    @property
    def current_model(self) -> Any:
        """The last published checkpoint (core.model.checkpoint.Checkpoint) or None."""
        return self._model

    def publish_model(self, checkpoint: Any) -> None:
        self._model = checkpoint
        self.model_loaded.emit(checkpoint)

    def post(self, message: str) -> None:
        self.message_posted.emit(message)

    def load_checkpoint(self, path: str) -> None:
        """Load in a worker (torch import and file I/O stay off the GUI thread), then publish."""

        def load():
            from core.model.checkpoint import load_checkpoint

            return load_checkpoint(path)

        workers.call_in_worker(load, self.publish_model, self.post)

    @staticmethod
    def engine_imported() -> bool:
        return all(name in sys.modules for name in ENGINE_MODULES)

    def expect_engine(self) -> None:
        """The window will load the engine after its first paint: until then Train shows a loading state."""
        self.engine_loading = not self.engine_imported()

    def load_engine(self, launch_model: str | None = None) -> None:
        """Import the engine and load the launch model in one worker; then publish the model (the panels draw
        it) and only then emit engine_ready, so the first click comes after every one-time cost."""
        importing = not self.engine_imported()
        if not importing and not launch_model:
            self._on_engine_loaded(None, freeze=False)
            return
        self.engine_loading = True
        workers.defer_collections(importing)

        lang = i18n.language()

        def work():
            _import_engine()
            from core.data.world import world_corpus

            world_corpus(lang)  # cached: the first run's text is ready when Train is clicked
            if not launch_model:
                return None
            from core.model.checkpoint import load_checkpoint

            return load_checkpoint(launch_model)

        workers.call_in_worker(
            work,
            lambda ckpt: self._on_engine_loaded(ckpt, importing),
            lambda message: self._on_engine_error(message, importing),
        )

    def _on_engine_loaded(self, checkpoint: Any, freeze: bool = True) -> None:
        if freeze:
            # torch, numpy and Qt live as long as the process: frozen, the GUI thread's full garbage
            # collections skip their ~150 000 objects (one was 130-440 ms with them on a busy 2-core machine).
            gc.freeze()
        workers.defer_collections(False)
        if checkpoint is not None and self._model is None:
            self.publish_model(checkpoint)
            # Train waits until the panels have drawn the launch model: a click in the middle of that drawing
            # met 50-100 ms stalls (the drawing and the run's start shared the GUI thread and the GIL).
            WhenSettled(self, self._on_ready)
            return
        self._on_ready()

    def _on_ready(self) -> None:
        self.engine_loading = False
        self.engine_ready.emit()

    def _on_engine_error(self, message: str, freeze: bool) -> None:
        self.post(message)  # a launch model that does not load; Train still works (or reports the error)
        self._on_engine_loaded(None, freeze)

    def bundled_model(self) -> str | None:
        """The model the window shows at launch (see core.resources.startup_model)."""
        path = resources.startup_model(i18n.language())
        return str(path) if path else None

    def _on_run_finished(self, event: Any) -> None:
        """A finished run's checkpoint becomes the current model, so inspector panels follow training."""
        path = getattr(event, "checkpoint_path", "")
        if path and os.path.isfile(path):
            # After the panels have drawn the finished run: loading builds a model in Python in a worker, and
            # the two together held the GUI thread 53-64 ms after Stop (each paint's GIL takes waited).
            WhenSettled(self, lambda: self.load_checkpoint(path))
