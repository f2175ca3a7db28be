"""Does the window stay responsive while it trains, start fast, and leave training speed alone?

    QT_QPA_PLATFORM=offscreen python benchmarks/ui_latency.py [--steps 400] [--starts 5] [--pairs 2] [--json]

1. Event-loop lateness: a 10 ms QTimer samples how late the GUI thread is while the `default` preset trains
   in the window, started once the bundled model is on screen (goal: p99 <= 16 ms, one frame at 60 Hz;
   max <= 50 ms).
2. Cold start to the first shown window, median of `--starts` fresh processes (goal <= 1.5 s).
3. Training tokens/s with the GUI streaming events vs the same run headless (goal >= 0.95x): medians of
   runs alternated headless / in window / headless ..., the in-window ones without the lateness probe.
Settings and runs go to a temporary folder."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as main.py sets it for the app's process
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

CHILD = r"""
import os, sys, time
sys.path.insert(0, {root!r})
from PySide6.QtWidgets import QApplication
app = QApplication([])
import main, gui
main._cjk_font(app)
w = gui.create_main_window({settings!r})
w.show()
app.processEvents()
print("SHOWN", "torch" in sys.modules, flush=True)
os._exit(0)
"""


def cold_start(starts: int, tmp: str) -> dict:
    """Wall time from process launch to the window shown (interpreter start and imports included)."""
    times, torch_loaded = [], []
    env = {**os.environ, "LLM_EXPLORER_RUNS": os.path.join(tmp, "runs")}
    for i in range(starts):
        code = CHILD.format(root=ROOT, settings=os.path.join(tmp, f"cold{i}.ini"))
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
        line = next((ln for ln in out.stdout.splitlines() if ln.startswith("SHOWN")), "")
        if line:
            times.append(time.perf_counter() - t0)
            torch_loaded.append(line.endswith("True"))
    return {
        "cold_start_median_s": statistics.median(times) if times else None,
        "cold_start_all_s": times,
        "torch_imported_before_show": any(torch_loaded),
    }


def configs(steps: int):
    from core.config import PRESETS

    preset = PRESETS["default"]
    train = dataclasses.replace(preset.train, steps=steps, threads=2)
    return preset.model, train


def headless(steps: int, tmp: str) -> float:
    from core.events import Done
    from core.training.trainer import Trainer

    model, train = configs(steps)
    done = None
    for event in Trainer(model, train, out_dir=os.path.join(tmp, "headless"), preset="default").run():
        if isinstance(event, Done):
            done = event
    return float(done.metrics["tokens_per_s"]) if done else float("nan")


def in_window(steps: int, tmp: str, sample: bool = True) -> dict:
    """One `default` run in the window. `sample`: also run the 10 ms lateness probe (a Python callback
    100 times a second that the app itself does not have, so throughput is measured without it)."""
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    import main as app_main
    from gui import create_main_window

    app = QApplication.instance() or QApplication([])
    app_main._cjk_font(app)
    os.environ["LLM_EXPLORER_RUNS"] = os.path.join(tmp, "runs")
    window = create_main_window(os.path.join(tmp, "bench.ini"))
    window.resize(1400, 860)
    window.show()
    session = window.context.session
    late: list[float] = []
    state = {"last": time.perf_counter(), "training": False, "done": None}

    def tick() -> None:
        now = time.perf_counter()
        if state["training"]:
            late.append(max(0.0, now - state["last"] - 0.010) * 1000)
        state["last"] = now

    def on_step(_event) -> None:
        state["training"] = True

    def on_done(event) -> None:
        state["training"] = False
        state["done"] = event

    timer = QTimer(interval=10)
    timer.timeout.connect(tick)
    if sample:
        timer.start()
    session.step_logged.connect(on_step)
    session.run_finished.connect(on_done)
    session.run_failed.connect(on_done)
    # Start as a user would: once the window has shown the bundled model (its load imports torch in a
    # worker, and the panels then compute on it). Waits at most 30 s.
    ready = QEventLoop()
    window.context.model_loaded.connect(lambda _ckpt: QTimer.singleShot(1000, ready.quit))
    QTimer.singleShot(30_000, ready.quit)
    ready.exec()
    model, train = configs(steps)
    loop = QEventLoop()  # the real event loop: a polling loop here would itself compete for the GIL
    session.state_changed.connect(lambda s: s == "idle" and loop.quit())
    session.start(model, train, out_dir=os.path.join(tmp, "gui"), preset="default")
    loop.exec()
    timer.stop()
    window.close()
    window.deleteLater()  # the next measurement gets a fresh window, not two
    late.sort()
    done = state["done"]
    return {
        "lateness_samples": len(late),
        "lateness_p50_ms": late[len(late) // 2] if late else None,
        "lateness_p99_ms": late[int(len(late) * 0.99)] if late else None,
        "lateness_max_ms": late[-1] if late else None,
        "gui_tokens_per_s": float(done.metrics.get("tokens_per_s", "nan"))
        if hasattr(done, "metrics")
        else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400, help="training steps of the `default` preset per run")
    parser.add_argument("--starts", type=int, default=5, help="cold starts to take the median of")
    parser.add_argument("--pairs", type=int, default=2, help="in-window throughput runs, between headless ones")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="llmx-bench-")
    result = {"steps": args.steps, "cpu_count": os.cpu_count()}
    result.update(cold_start(args.starts, tmp))
    result.update(in_window(args.steps, tmp))
    # Throughput: headless and in-window runs alternated, so the machine's minute-to-minute drift hits both.
    gui, bare = [], []
    for _ in range(args.pairs):
        bare.append(headless(args.steps, tmp))
        gui.append(in_window(args.steps, tmp, sample=False)["gui_tokens_per_s"])
    bare.append(headless(args.steps, tmp))
    result["headless_tokens_per_s_all"], result["gui_tokens_per_s_all"] = bare, gui
    result["headless_tokens_per_s"] = statistics.median(bare)
    result["gui_tokens_per_s"] = statistics.median(gui)
    result["gui_vs_headless"] = result["gui_tokens_per_s"] / result["headless_tokens_per_s"]
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:28s} {value:.3f}" if isinstance(value, float) else f"{key:28s} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
