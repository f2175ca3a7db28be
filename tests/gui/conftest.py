"""GUI test fixtures: offscreen Qt, settings and run folders in a temporary place (the user's are never
touched), every test ends with no worker thread running, and a fake trainer for fast, scripted runs."""

from __future__ import annotations

import os
import threading
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt

import pytest
from PySide6.QtCore import QSettings

from core.events import Done, Eval, Failed, Snapshot, Started, Step


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path, monkeypatch):
    """QSettings of every format and scope, and GUI runs, point into tmp_path."""
    settings_dir = tmp_path / "settings"
    settings_dir.mkdir()
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
            QSettings.setPath(fmt, scope, str(settings_dir))
    monkeypatch.setenv("LLM_EXPLORER_SETTINGS", str(settings_dir / "llm-explorer.ini"))
    monkeypatch.setenv("LLM_EXPLORER_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("LLM_EXPLORER_MODELS", str(tmp_path / "no-models"))  # no bundled-model load per test
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    yield settings_dir
    from gui import i18n

    i18n.set_language("zh")


@pytest.fixture(autouse=True)
def _gui_thread_gc(qapp):
    """As in the app: garbage is collected on the GUI thread only (see gui.workers)."""
    from gui import workers

    workers.collect_garbage_on_gui_thread()


@pytest.fixture(autouse=True)
def _no_thread_left(qapp):
    """A test may not leave a worker running: give threads a short grace period, then fail (and clean up)."""
    yield
    from gui import workers

    deadline = time.monotonic() + 2.0
    while workers.live_threads() and time.monotonic() < deadline:
        qapp.processEvents()
        time.sleep(0.01)
    left = [t.objectName() for t in workers.live_threads()]
    if left:
        workers.stop_all(5.0)
    qapp.processEvents()
    assert not left, f"QThreads still running after the test: {left}"


class FakeTrainer:
    """The engine's contract, scripted: Started, a Step every `dt` s, Eval + Snapshot every 10 steps, Done.

    `fail_at` makes it yield Failed at that step; `raise_at` makes it raise (a crash inside the engine)."""

    instances: list[FakeTrainer] = []

    def __init__(
        self,
        model_cfg,
        train_cfg,
        corpus_path=None,
        out_dir=None,
        preset="custom",
        dt=0.005,
        fail_at=None,
        raise_at=None,
        steps=None,
    ):
        self.model_cfg, self.train_cfg, self.out_dir, self.preset = model_cfg, train_cfg, out_dir, preset
        self.dt, self.fail_at, self.raise_at = dt, fail_at, raise_at
        self.total = steps or train_cfg.steps or 10_000
        self._stop = threading.Event()
        self.pulled = 0
        FakeTrainer.instances.append(self)

    def stop(self):
        self._stop.set()

    def run(self):
        import numpy as np

        yield Started(self.out_dir or "", self.preset, 1234, self.total, 0.0, 50, 1000)
        for step in range(1, self.total + 1):
            if self._stop.is_set():
                yield Done("stopped", {"steps": step - 1}, "")
                return
            time.sleep(self.dt)
            if step == self.raise_at:
                raise RuntimeError("injected engine crash")
            if step == self.fail_at:
                yield Failed("injected failure: loss is NaN")
                return
            self.pulled = step
            yield Step(
                step,
                step * 100,
                4.0 / (1 + 0.01 * step),
                1e-3,
                1e4,
                step * 1e9,
                step * self.dt,
                step / self.total,
            )
            if step % 10 == 0:
                yield Eval(
                    step,
                    4.2 / (1 + 0.01 * step),
                    {"coref_acc": 0.7, "coref_chance": 0.5, "neighbor_purity": 0.6, "neighbor_chance": 0.2},
                )
                rng = np.random.default_rng(step)
                yield Snapshot(
                    step,
                    ("猫", "狗", "垫子", "椅子"),
                    ("animal", "animal", "seat", "seat"),
                    rng.normal(size=(4, 8)).astype(np.float32),
                    "猫坐在垫子上",
                    ("猫",),
                    np.zeros((1, 1, 1, 1), np.float32),
                )
        yield Done("finished", {"steps": self.total}, "")


@pytest.fixture
def context(tmp_path):
    """A fresh AppContext with its settings in tmp_path."""
    from gui.context import AppContext, make_settings

    return AppContext(make_settings(str(tmp_path / "s.ini")))


@pytest.fixture
def fake_trainer():
    """Returns a factory builder: fake_trainer(**options) → a trainer_factory for TrainingSession."""
    FakeTrainer.instances.clear()

    def make(**options):
        return lambda *a, **kw: FakeTrainer(*a, **{**kw, **options})

    make.instances = FakeTrainer.instances  # the trainers built so far, newest last
    return make


@pytest.fixture
def window(qtbot, _isolated_settings):
    """The fully wired main window with settings in tmp; closed (and its threads waited for) at the end."""
    from gui import create_main_window

    win = create_main_window(str(_isolated_settings / "window.ini"))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: not win.context.engine_loading, timeout=120_000)  # Train is enabled from here
    yield win
    win.close()
