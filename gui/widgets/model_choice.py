"""The model switch shared by the attention and cloze panels: bundled causal, bundled cloze (masked),
the current training run, or a checkpoint the user opened.

Checkpoints load in a worker (gui/workers.py) and are cached by path, so both panels share one copy.
While a run is training its weights live in the trainer's thread; the panels then follow the run through
its snapshots and evaluations, and switch to its checkpoint when it is written at the end."""

from __future__ import annotations

import os
import sys
import threading
from contextlib import contextmanager
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox

from core import resources
from gui import i18n, workers
from gui.i18n import tr
from gui.widgets.throttle import WhenVisible

KEYS = ("default", "cloze", "run", "opened")
_cache: dict[str, Any] = {}  # weights path -> core.model.checkpoint.Checkpoint, shared by every panel


_threads_lock = threading.Lock()
_threads_users = 0
_threads_saved = 0


@contextmanager
def inference_threads():
    """Run a tiny model's forward on one intra-op thread. At these sizes threads only add barriers, and
    when a training run already keeps every core busy, OpenMP's spinning turned a 1 ms forward into
    hundreds of ms (measured). torch's setting is process-wide, so the first user saves it and the last
    one restores it.

    Before torch is imported there is no model to run, so this does nothing rather than import torch on
    the GUI thread (panels refresh while the window is built, long before a checkpoint has loaded). Once
    it is in sys.modules, `import torch` also waits for a worker still importing it (never half a module)."""
    if "torch" not in sys.modules:
        yield
        return
    import torch

    global _threads_users, _threads_saved
    with _threads_lock:
        if _threads_users == 0:
            _threads_saved = torch.get_num_threads()
            torch.set_num_threads(1)
        _threads_users += 1
    try:
        yield
    finally:
        with _threads_lock:
            _threads_users -= 1
            if _threads_users == 0:
                torch.set_num_threads(_threads_saved)


def follow_example(edit, examples: dict[str, str], lang: str) -> None:
    """Show the example sentence in the model's language, unless the user typed their own: an English model
    shown 猫坐在垫子上… read nothing but <unk>."""
    text = examples.get(lang)
    if text and edit.text() != text and edit.text() in examples.values():
        edit.blockSignals(True)
        edit.setText(text)
        edit.blockSignals(False)


def bundled_path(kind: str) -> str:
    return str(resources.bundled_model(kind, i18n.language()))


def _load(path: str):
    from core.model.checkpoint import load_checkpoint

    return load_checkpoint(path)


class ModelChoice(QComboBox):
    """Emits `model_changed(key, checkpoint)`; checkpoint is None while a run is live or nothing is loaded
    (then `status_posted` says why, in one line)."""

    model_changed = Signal(str, object)
    status_posted = Signal(str)

    def __init__(self, context=None, parent=None) -> None:
        super().__init__(parent)
        self._context = context
        self._checkpoints: dict[str, Any] = {}
        self._run_live = False
        self._activated = False  # a choice has been made or shown (then start() has nothing to do)
        # A panel in a tab behind another redraws for a new model only when brought to the front: when a
        # run ended, every panel redrawing at once held the window 140-330 ms.
        self._announce = WhenVisible(self, self.model_changed.emit, hold_unshown=False)
        for _ in KEYS:
            self.addItem("")
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.retranslate()
        self.currentIndexChanged.connect(lambda _i: self._activate())
        if context is not None:
            context.model_loaded.connect(self._on_model_loaded)
            context.session.run_started.connect(self._on_run_started)
            context.session.run_finished.connect(self._on_run_ended)
            context.session.run_failed.connect(self._on_run_ended)

    def retranslate(self) -> None:
        names = {
            "default": tr("内置因果模型（GPT 式）", "Bundled causal (GPT-style)"),
            "cloze": tr("内置完形填空模型（双向）", "Bundled cloze (bidirectional)"),
            "run": tr("当前训练", "Current run"),
            "opened": tr("已打开的检查点", "Opened checkpoint"),
        }
        for i, key in enumerate(KEYS):
            self.setItemText(i, names[key])

    def key(self) -> str:
        return KEYS[max(0, self.currentIndex())]

    def checkpoint(self) -> Any:
        return self._checkpoints.get(self.key())

    def is_live(self) -> bool:
        """True while the chosen model is a run still training (follow its snapshots)."""
        return self.key() == "run" and self._run_live

    def announced(self) -> bool:
        """The panel has been told of the current model (one behind another tab is told when shown)."""
        return not self._announce.pending

    def select(self, key: str) -> None:
        if self.key() == key:
            self._activate()
        else:
            self.setCurrentIndex(KEYS.index(key))

    def set_checkpoint(self, key: str, checkpoint: Any) -> None:
        """Give `key` a loaded checkpoint (tests, finished loads); re-emits when it is the current key."""
        self._checkpoints[key] = checkpoint
        if checkpoint is not None and getattr(checkpoint, "path", ""):
            _cache[checkpoint.path] = checkpoint
        if self.key() == key:
            self._activate()

    def start(self) -> None:
        """Load the first choice (the bundled causal model) without blocking the window: after its first
        paint (the load imports torch in a worker, which holds the GIL for most of a second). Nothing happens
        if a model was chosen or published meanwhile."""
        if self._context is not None and self._context.engine_loading:
            # The window loads the bundled model with the engine and publishes it: loading it here as well
            # imported torch in a second worker and drew the panel while imports held the GIL (170 ms).
            self._context.engine_ready.connect(lambda: None if self._activated else self._activate())
            return
        workers.after_startup(self, lambda: None if self._activated else self._activate())

    def _activate(self) -> None:
        self._activated = True
        key = self.key()
        if self.is_live():
            self._announce(key, None)
            return
        ckpt = self._checkpoints.get(key)
        if ckpt is not None:
            self._announce(key, ckpt)
            return
        if key in ("default", "cloze"):
            self._load_path(key, bundled_path(key))
        elif key == "run":
            path = self._context.session.checkpoint_path if self._context is not None else ""
            if path:
                self._load_path(key, path)
            else:
                self.status_posted.emit(
                    tr(
                        "还没有训练过：先在“训练”面板开始一次训练。",
                        "No run yet: start one in the Training panel.",
                    )
                )
        elif self._context is not None and self._context.current_model is not None:
            self.set_checkpoint(key, self._context.current_model)
        else:
            self.status_posted.emit(
                tr(
                    "还没有打开检查点：用“文件 → 打开模型检查点”。",
                    "No checkpoint opened: use File → Open checkpoint.",
                )
            )
        if self._checkpoints.get(key) is None:
            self._announce(key, None)

    def _load_path(self, key: str, path: str) -> None:
        if path in _cache:
            self._checkpoints[key] = _cache[path]
            self._announce(key, _cache[path])
            return
        if not os.path.isfile(path):
            self.status_posted.emit(tr(f"找不到模型文件 {path}", f"Model file not found: {path}"))
            return
        self.status_posted.emit(tr("正在加载模型…", "Loading the model…"))
        workers.call_in_worker(
            lambda: _load(path), lambda ck: self.set_checkpoint(key, ck), self.status_posted.emit, owner=self
        )

    def _on_model_loaded(self, checkpoint) -> None:
        """A checkpoint the window published: the bundled one it loads at start-up keeps its own name."""
        path = os.path.realpath(getattr(checkpoint, "path", "") or "")
        key = next((k for k in ("default", "cloze") if path == os.path.realpath(bundled_path(k))), "opened")
        run_path = self._context.session.checkpoint_path if self._context is not None else ""
        if path and run_path and path == os.path.realpath(run_path):
            key = "run"  # the window publishes a finished run's checkpoint too
        self._checkpoints[key] = checkpoint
        if path:
            _cache[getattr(checkpoint, "path", "")] = checkpoint
        self.select(key)

    def _on_run_started(self, _event) -> None:
        self._run_live = True
        self._checkpoints.pop("run", None)
        self.select("run")

    def _on_run_ended(self, event) -> None:
        self._run_live = False
        path = getattr(event, "checkpoint_path", "") or ""
        if path and os.path.isfile(path):
            _cache.pop(path, None)  # the same path is rewritten by every run
            # A finished run's checkpoint is loaded once, by the context, and arrives in _on_model_loaded
            # (each panel loading it again cost 143-326 ms of GUI-thread work per copy, measured).
            published = self._context is not None and event.__class__.__name__ == "Done"
            if self.key() == "run" and not published:
                self._load_path("run", path)
            return
        if self.key() == "run":
            self._activate()
