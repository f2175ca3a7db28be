"""Cold start: the window is built and shown without importing torch (goal: first window <= 1.5 s; see
benchmarks/ui_latency.py). torch loads later, in a worker, after the first paint."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

CHILD = textwrap.dedent(
    """
    import sys
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    import gui

    window = gui.create_main_window()
    created = "torch" in sys.modules
    window.show()
    app.processEvents()  # the first paint, and timers already due; not the deferred model loads
    print("TORCH", created, "torch" in sys.modules, flush=True)
    window.close()
    """
)


def test_window_is_created_and_shown_without_importing_torch(tmp_path):
    models = tmp_path / "models"
    models.mkdir()  # empty: no bundled model to load
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "LLM_EXPLORER_MODELS": str(models),
        "LLM_EXPLORER_SETTINGS": str(tmp_path / "settings.ini"),
        "LLM_EXPLORER_RUNS": str(tmp_path / "runs"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
        "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
        "PYTHONPATH": os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p),
    }
    out = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("TORCH")), None)
    assert line is not None, out.stdout + out.stderr
    assert line == "TORCH False False", f"torch imported on the GUI thread before the window was up: {line}"
