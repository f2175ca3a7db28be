"""AppContext: what every panel is given — the training session, the settings, and the current model.

Kept small on purpose: panels talk to the engine only through `session` signals and `model_loaded`."""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import QObject, QSettings, QStandardPaths, Signal

from core import resources
from gui import i18n, workers
from gui.session import TrainingSession


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


class AppContext(QObject):
    """Shared by all panels. `model_loaded(Checkpoint)` fires whenever a new model becomes current."""

    model_loaded = Signal(object)
    message_posted = Signal(str)  # one line for the status bar (errors from workers included)

    def __init__(
        self, settings: QSettings, session: TrainingSession | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self.session = session or TrainingSession(parent=self)
        self._model: Any = None
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

    def bundled_model(self) -> str | None:
        """The model the window shows at launch (see core.resources.startup_model)."""
        path = resources.startup_model(i18n.language())
        return str(path) if path else None

    def _on_run_finished(self, event: Any) -> None:
        """A finished run's checkpoint becomes the current model, so inspector panels follow training."""
        path = getattr(event, "checkpoint_path", "")
        if path and os.path.isfile(path):
            self.load_checkpoint(path)
