"""Walk the whole lesson on the bundled models offscreen, then save the README's lesson screenshots and the
worksheet (PDF, and its pages as PNG when poppler's pdftoppm is installed) in Chinese and in English.

    QT_QPA_PLATFORM=offscreen python scripts/lesson_worksheet.py [--out docs]

Training and distillation use the recorded results (no run is started). Settings go to a temporary file."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def _wait(app, seconds: float, until) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not until():
        app.processEvents()
        time.sleep(0.02)
    return until()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "docs"))
    parser.add_argument("--dpi", type=int, default=60)
    args = parser.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="llmx-lesson-")
    os.environ["LLM_EXPLORER_RUNS"] = os.path.join(tmp, "runs")

    from PySide6.QtWidgets import QApplication, QWidget

    from gui import create_main_window

    app = QApplication.instance() or QApplication([])
    win = create_main_window(os.path.join(tmp, "settings.ini"))
    win.resize(1500, 940)
    win.show()
    lesson = win.findChild(QWidget, "lessonPanel")
    lesson.use_recorded.setChecked(True)
    for lang in ("zh", "en"):
        win.set_language(lang)
        for step_id in lesson.steps():
            lesson.run_step(step_id)
            if not _wait(app, 120, lambda s=step_id: lesson.result(s) is not None):
                print(f"{step_id}: no result", file=sys.stderr)
                return 1
            r = lesson.result(step_id)
            print(lang, step_id, r["verdict"]["kind"], r["verdict"][lang][:160])
        lesson.game.restart()
        lesson.go(lesson.steps().index("cloze"))
        for word in ("垫子", "床"):
            lesson.pick(word)
        _wait(app, 0.3, lambda: False)
        lesson.body.grab().save(os.path.join(args.out, f"lesson-game-{lang}.png"))  # all of it, scrolled or not
        for word in ("鱼", "花园"):
            lesson.pick(word)
        lesson.run_step("attention")  # the window's picture: the lesson beside the panel it drove
        _wait(app, 60, lambda: lesson.result("attention") is not None)
        _wait(app, 0.5, lambda: False)
        win.grab().save(os.path.join(args.out, f"lesson-{lang}.png"))
        pdf = os.path.join(tmp, f"worksheet-{lang}.pdf")
        written = []
        lesson.worksheet_exported.connect(written.append)
        lesson.export_worksheet(pdf, lang)
        if not _wait(app, 60, lambda w=written: w):
            return 1
        lesson.worksheet_exported.disconnect(written.append)
        if shutil.which("pdftoppm"):
            prefix = os.path.join(args.out, f"worksheet-{lang}")
            subprocess.run(["pdftoppm", "-r", str(args.dpi), "-png", pdf, prefix], check=True)
        print("worksheet:", pdf)
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
