"""Word-vector panel and tokenizer lab speed.

    QT_QPA_PLATFORM=offscreen python benchmarks/embedding_latency.py [--json] [--file-mb 50]

1. One time-lapse frame for 500 tokens × 64 dims: PCA + orthogonal Procrustes onto the latest frame
   (goal <= 5 ms; median and min of 200: on a shared machine the min is the least disturbed).
2. t-SNE of 500 points (scikit-learn, in a child process started from a worker thread) while a 10 ms
   QTimer samples how late the GUI thread is (goals: <= 10 s; p99 lateness <= 16 ms).
3. Scrubbing: the panel shows each of 100 frames, with a repaint, per frame (goal <= 16 ms): the 50 entity
   words alone, and with "all tokens" on (50 words + 450 other tokens).
4. The tokenizer lab counting a `--file-mb` MB text file in a worker: wall time and the GUI thread's p99
   lateness meanwhile.
On a shared machine the figures move with the other load; the script says how many cores it saw."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as main.py sets it for the app's process
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402


def pca_frame_ms(n: int = 500, d: int = 64, reps: int = 200) -> dict:
    from core.embeddings.projection import orient, pca_2d, procrustes

    rng = np.random.default_rng(0)
    latest, frame = rng.normal(size=(n, d)), rng.normal(size=(n, d))
    ref = orient(pca_2d(latest))
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        procrustes(pca_2d(frame), ref)
        times.append(time.perf_counter() - t)
    return {
        "pca_procrustes_500_median_ms": statistics.median(times) * 1e3,
        "pca_procrustes_500_min_ms": min(times) * 1e3,
    }


class Lateness:
    """A 10 ms QTimer; how late each tick fired."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.late: list[float] = []
        self._last = None
        self.timer = QTimer(interval=10)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.late.append(max(0.0, now - self._last - 0.010))
        self._last = now

    def start(self) -> None:
        self._last = None
        self.late = []
        self.timer.start()

    def p99_ms(self) -> float:
        self.timer.stop()
        return float(np.percentile(self.late, 99) * 1e3) if self.late else float("nan")


def _wait(app, done, timeout_s: float) -> None:
    end = time.perf_counter() + timeout_s
    while not done() and time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.001)


def tsne_under_load(app) -> dict:
    from core.embeddings.tsne import run_tsne
    from gui import workers

    x = np.random.default_rng(1).normal(size=(500, 64))
    probe, box = Lateness(), {}
    probe.start()
    t0 = time.perf_counter()
    workers.call_in_worker(
        lambda: run_tsne(x), lambda y: box.setdefault("y", y), lambda m: box.setdefault("e", m)
    )
    _wait(app, lambda: box, 120)
    wall = time.perf_counter() - t0
    return {"tsne_500_s": wall, "tsne_p99_lateness_ms": probe.p99_ms(), "tsne_error": box.get("e")}


def scrub_ms(app, all_tokens: bool = True) -> dict:
    from core.events import Snapshot
    from gui.panels.embedding import EmbeddingPanel

    rng = np.random.default_rng(2)
    words = tuple(f"w{i}" for i in range(50))
    cats = tuple(("animal", "seat", "object", "food", "place")[i % 5] for i in range(50))
    labels = ("<unk>", "[MASK]", *(f"t{i}" for i in range(450)))
    panel = EmbeddingPanel()
    panel.resize(900, 800)
    panel.show()
    for step in range(100):
        tokens = rng.normal(size=(len(labels), 64)).astype(np.float16)
        panel._on_snapshot_ready(
            Snapshot(
                step, words, cats, rng.normal(size=(50, 64)).astype(np.float32), "", (), None, tokens, labels
            )
        )
    panel.all_tokens.setChecked(all_tokens)
    app.processEvents()
    times = []
    for k in range(100):
        t = time.perf_counter()
        panel.timeline.setValue(k)
        panel.map.repaint()
        app.processEvents()
        times.append(time.perf_counter() - t)
    panel.close()
    ms = sorted(t * 1e3 for t in times)
    tag = "scrub_500" if all_tokens else "scrub_50"
    return {
        f"{tag}_min_ms": ms[0],
        f"{tag}_median_ms": statistics.median(ms),
        f"{tag}_p90_ms": ms[89],
    }


def file_stats(app, mb: int) -> dict:
    from core.model.tokenizer import train_tokenizer
    from gui.panels.tokenizer_panel import TokenizerPanel

    line = "猫坐在垫子上，它很舒服。the cat sat on the mat.\n"
    toks = {"char": train_tokenizer("char", line * 50), "bpe": train_tokenizer("bpe", line * 2000, 600)}
    panel = TokenizerPanel(train=lambda kind, lang, vocab=None: toks[kind])
    panel.show()
    _wait(app, lambda: bool(panel.compare_chips()), 30)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "big.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write(line * (mb * 2**20 // len(line.encode())))
        probe = Lateness()
        probe.start()
        t0 = time.perf_counter()
        panel.open_file(path)
        _wait(app, lambda: "big.txt" in panel.file_stats.text(), 600)
        wall = time.perf_counter() - t0
        p99 = probe.p99_ms()
    paste = (line * (2**20 // len(line))).strip()
    t0 = time.perf_counter()
    panel.input.setText(paste)
    paste_gui_ms = (time.perf_counter() - t0) * 1e3
    panel.close()
    return {
        "file_mb": mb,
        "file_stats_s": wall,
        "file_p99_lateness_ms": p99,
        "paste_1mb_gui_thread_ms": paste_gui_ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--file-mb", type=int, default=50)
    args = parser.parse_args()
    from PySide6.QtWidgets import QApplication

    from gui import workers

    app = QApplication.instance() or QApplication([])
    result = {"cpus": os.cpu_count(), "load_avg_1min": os.getloadavg()[0]}
    result |= pca_frame_ms()
    result |= scrub_ms(app, all_tokens=False)
    result |= scrub_ms(app, all_tokens=True)
    result |= tsne_under_load(app)
    result |= file_stats(app, args.file_mb)
    workers.stop_all(5.0)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:28s} {value:.3f}" if isinstance(value, float) else f"{key:28s} {value}")


if __name__ == "__main__":
    main()
