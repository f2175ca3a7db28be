"""Render the distillation lab offscreen and save its screenshots under docs/: the race (the one recorded
with the app, so the curves and verdict are real) and the soft-label view, in Chinese and in English.

    QT_QPA_PLATFORM=offscreen python scripts/distill_screenshots.py [--temperature 2]"""

from __future__ import annotations

import argparse
import os
import sys

from offscreen import ROOT, wait  # first: sets up Qt offscreen and the import path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--temperature", type=float, default=2.0, help="the soft-label view's T")
    parser.add_argument("--out", default=os.path.join(ROOT, "docs"))
    args = parser.parse_args()
    from PySide6.QtWidgets import QApplication

    from gui import i18n, workers
    from gui.panels.distill.panel import DistillPanel

    app = QApplication.instance() or QApplication([])
    panel = DistillPanel(None)
    panel.resize(1400, 940)
    panel.show()
    wait(app, 180, lambda: panel.verdict() is not None and panel.soft.rows() and not workers.live_threads())
    for lang in ("zh", "en"):
        i18n.set_language(lang)
        panel.retranslate()
        panel.soft.set_temperature(1.0)
        wait(app, 0.5)
        panel.plot.grab()  # offscreen, the plot's scene is drawn on its first grab; the panel's then has it
        wait(app, 0.3)
        panel.grab().save(os.path.join(args.out, f"distill-race-{lang}.png"))
        panel.soft.set_temperature(args.temperature)
        wait(app, 0.3)
        panel.soft.grab().save(os.path.join(args.out, f"distill-soft-labels-{lang}.png"))
    workers.stop_all(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
