"""Render the main window offscreen and save the README's screenshots under docs/.

    QT_QPA_PLATFORM=offscreen python scripts/screenshots.py [--steps 300]
    QT_QPA_PLATFORM=offscreen python scripts/screenshots.py --layouts   # docs/layout-<size>-<lang>.png only

Trains the `tiny` preset for a few hundred steps with the real engine so the curves and word vectors are
real, then saves the window in Chinese and in English. Settings go to a temporary file."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

from offscreen import ROOT, wait  # first: sets up Qt offscreen and the import path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--out", default=os.path.join(ROOT, "docs"))
    parser.add_argument(
        "--layouts", action="store_true", help="the first-launch layout at 1366x768 and 1920x1080 only"
    )
    args = parser.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="llmx-shots-")
    os.environ["LLM_EXPLORER_RUNS"] = os.path.join(tmp, "runs")

    from PySide6.QtWidgets import QApplication, QComboBox, QPushButton

    import main as app_main
    from gui import create_main_window

    app = QApplication.instance() or QApplication([])
    app_main._cjk_font(app)
    if args.layouts:
        return layouts(app, tmp, args.out)
    window = create_main_window(os.path.join(tmp, "settings.ini"))
    window.set_language("zh")
    window.resize(1500, 940)
    window.show()
    wait(app, 60, lambda: window.context.current_model is not None)  # the bundled model, if installed
    wait(app, 1)
    os.makedirs(args.out, exist_ok=True)
    window.grab().save(os.path.join(args.out, "window-start-zh.png"))

    combo = window.findChild(QComboBox, "presetCombo")
    combo.setCurrentIndex(combo.findData("tiny"))
    window.panels["trainingDock"].form.steps.setValue(args.steps)
    window.findChild(QPushButton, "trainButton").click()
    session = window.context.session
    wait(app, 900, lambda: session.state == "idle")
    wait(app, 2)
    window.grab().save(os.path.join(args.out, "window-trained-zh.png"))
    window.set_language("en")
    wait(app, 0.5)
    window.grab().save(os.path.join(args.out, "window-trained-en.png"))
    window.close()
    print("saved", *sorted(f for f in os.listdir(args.out) if f.startswith("window-")))
    return 0


def layouts(app, tmp: str, out: str) -> int:
    """A first launch at the two commonest screen sizes, on the bundled model, in both languages."""
    from gui import create_main_window

    os.makedirs(out, exist_ok=True)
    for width, height in ((1366, 768), (1920, 1080)):
        for lang in ("zh", "en"):  # a first launch in each language, as its user meets it
            window = create_main_window(os.path.join(tmp, f"layout-{width}-{lang}.ini"))
            window.set_language(lang)
            window.resize(width, height)
            window.show()
            wait(app, 120, lambda w=window: w.context.current_model is not None)
            wait(app, 2)
            window.grab().save(os.path.join(out, f"layout-{width}x{height}-{lang}.png"))
            window.close()
    print("saved", *sorted(f for f in os.listdir(out) if f.startswith("layout-")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
