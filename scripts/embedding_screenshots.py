"""Render the word-vector panel offscreen with the bundled `default` model and save docs/ screenshots:
neighbours of 猫, the personality-tag table, and three frames of the time-lapse, in Chinese and English;
and the tokenizer lab on a Chinese and an English sentence.

    QT_QPA_PLATFORM=offscreen python scripts/embedding_screenshots.py"""

from __future__ import annotations

import os
import sys
import tempfile

from offscreen import ROOT, wait  # first: sets up Qt offscreen and the import path


def _strip(images, path: str) -> None:
    """Frames side by side in one PNG."""
    from PySide6.QtGui import QImage, QPainter

    width, height = sum(i.width() for i in images), max(i.height() for i in images)
    out = QImage(width, height, QImage.Format.Format_ARGB32)
    out.fill(0xFFFFFFFF)
    painter = QPainter(out)
    x = 0
    for image in images:
        painter.drawImage(x, 0, image)
        x += image.width()
    painter.end()
    out.save(path)


def main() -> int:
    from PySide6.QtWidgets import QApplication

    import main as app_main
    from core import resources
    from core.model.checkpoint import load_checkpoint
    from gui import i18n
    from gui.context import AppContext, make_settings
    from gui.panels.embedding import EmbeddingPanel

    app = QApplication.instance() or QApplication([])
    app_main._cjk_font(app)
    out = os.path.join(ROOT, "docs")
    context = AppContext(make_settings(os.path.join(tempfile.mkdtemp(), "s.ini")))
    panel = EmbeddingPanel(context)
    panel.resize(1100, 980)
    panel.show()
    context.publish_model(load_checkpoint(resources.root() / "models" / "default.safetensors"))
    wait(app, 60, lambda: panel.frame() is not None)
    for lang in ("zh", "en"):
        i18n.set_language(lang)
        panel.retranslate()
        panel.ask("猫")
        wait(app, 0.5)
        panel.grab().save(os.path.join(out, f"embedding-neighbours-{lang}.png"))
        panel.resize(1100, 1300)  # room for every row of the table
        wait(app, 0.3)
        panel.axes.grab().save(os.path.join(out, f"embedding-table-{lang}.png"))
        panel.resize(1100, 980)
        frames = []
        steps = panel._timeline.steps
        panel.resize(780, 900)  # a map about 560 px wide per frame
        for step in (0, 300, steps[-1]):
            panel.timeline.setValue(steps.index(step))
            wait(app, 0.3)
            top = panel.info.grab().toImage()
            frames.append(panel.map.grab().toImage())
            frames[-1] = _label(frames[-1], top)
        panel.timeline.setValue(len(steps) - 1)
        panel.resize(1100, 980)
        _strip(frames, os.path.join(out, f"embedding-timelapse-{lang}.png"))
    panel.close()
    _tokenizer_lab(app, out)
    print("saved", *sorted(f for f in os.listdir(out) if f.startswith(("embedding-", "tokenizer-"))))
    return 0


def _tokenizer_lab(app, out: str) -> None:
    from gui import i18n
    from gui.panels.tokenizer_panel import TokenizerPanel

    lab = TokenizerPanel()
    lab.resize(1000, 420)
    lab.show()
    for lang, text in (
        ("zh", "猫坐在垫子上，它很舒服。龍"),
        ("en", "the cat sat on the mat, it was comfortable. 猫"),
    ):
        i18n.set_language(lang)
        lab.retranslate()
        lab.input.setText(text)
        wait(app, 0.5)
        wait(app, 120, lambda: bool(lab.chips()) and bool(lab.compare_chips()) and not lab.progress.isVisible())
        wait(app, 0.5)
        lab.grab().save(os.path.join(out, f"tokenizer-lab-{lang}.png"))
    lab.close()


def _label(image, caption):
    """The map with the step read-out above it."""
    from PySide6.QtGui import QImage, QPainter

    caption = caption.copy(0, 0, image.width(), min(caption.height(), 40))
    out = QImage(image.width(), image.height() + caption.height(), QImage.Format.Format_ARGB32)
    out.fill(0xFFFFFFFF)
    painter = QPainter(out)
    painter.drawImage(0, 0, caption)
    painter.drawImage(0, caption.height(), image)
    painter.end()
    return out


if __name__ == "__main__":
    sys.exit(main())
