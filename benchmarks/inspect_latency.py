"""Keystroke → heatmap repainted, in the attention panel, with the bundled `default` model and a 32-token
sentence (the model's whole context). Each sample: a key press on the input, the event loop run until the
panel has recomputed (tokenize, one forward with attention weights, the view, the bars) and the heatmap has
received its paint event (the event loop paints every dirty widget in the same pass). The panel follows
typing at once while a forward stays under 20 ms; the layer × head thumbnails follow when typing pauses.

    python3 benchmarks/inspect_latency.py [--keys 60] [--checkpoint CKPT] [--json]"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SENTENCE = "猫坐在垫子上，它很舒服。它是猫。狗睡在沙发上，它很软。它是沙发"  # 31 characters; one more is typed
KEYS = "猫狗垫子它是很舒服软"


def _paint_counter():
    from PySide6.QtCore import QEvent, QObject

    class PaintCounter(QObject):
        """Counts paint events of the heatmap: the moment the new matrix is on screen."""

        count = 0

        def eventFilter(self, obj, event) -> bool:
            if event.type() == QEvent.Type.Paint:
                self.count += 1
            return False

    return PaintCounter()


def measure(n_keys: int, checkpoint: str | None) -> dict:
    from PySide6.QtCore import QEvent, Qt
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from core.cli.train import load_model
    from gui.panels.attention.panel import AttentionPanel

    app = QApplication.instance() or QApplication([])
    ckpt = load_model(checkpoint, "default")
    panel = AttentionPanel(None)
    panel.resize(1000, 700)
    panel.show()
    panel.model_choice.set_checkpoint("default", ckpt)
    app.processEvents()
    panel.input.setText(SENTENCE)
    panel.input.setFocus()
    panel.input.end(False)
    painter = _paint_counter()
    panel.heatmap.installEventFilter(painter)
    app.processEvents()
    samples, forwards, cpus = [], [], []
    for i in range(n_keys + 5):
        before = panel.render_count
        t0, c0 = time.perf_counter(), time.process_time()
        if i % 2 == 0:  # a typed character (QTest only knows ASCII keys), then a backspace
            key = QKeyEvent(
                QEvent.Type.KeyPress, Qt.Key.Key_unknown, Qt.KeyboardModifier.NoModifier, KEYS[i % 10]
            )
            QApplication.sendEvent(panel.input, key)
        else:
            QTest.keyClick(panel.input, Qt.Key.Key_Backspace)
        painted = painter.count
        while panel.render_count == before or painter.count == painted:  # recomputed, then painted
            app.processEvents()
        elapsed, cpu = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
        if i >= 5:  # warm-up: first forwards, first paint of every item
            samples.append(elapsed)
            cpus.append(cpu)
            forwards.append(panel._forward_ms)
    samples.sort()
    return {
        "tokens": [len(panel.tokens()) - 1, len(panel.tokens())],
        "keys": len(samples),
        "median_ms": round(statistics.median(samples), 2),
        "p90_ms": round(samples[int(0.9 * (len(samples) - 1))], 2),
        "max_ms": round(samples[-1], 2),
        "cpu_median_ms": round(statistics.median(cpus), 2),  # this process's CPU time: what contention hides
        "forward_median_ms": round(statistics.median(forwards), 2),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "checkpoint": ckpt.path,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=60)
    parser.add_argument("--checkpoint")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure(args.keys, args.checkpoint)
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"keystroke → heatmap repainted over {result['keys']} keys ({result['tokens'][1]} tokens): "
            f"median {result['median_ms']} ms, p90 {result['p90_ms']} ms, max {result['max_ms']} ms "
            f"(CPU time {result['cpu_median_ms']} ms; forward with weights {result['forward_median_ms']} ms; "
            f"load average {result['load_average_1min']} on {result['cpus']} CPUs)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
