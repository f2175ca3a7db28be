"""`llm-explorer` / `python main.py`: open the window, or forward a subcommand to the headless CLI.

Startup stays fast by not importing torch here: the window is shown first, the engine loads in workers."""

from __future__ import annotations

import os
import sys

# numpy's work in this process is tiny (a PCA of ~50 word vectors), but its OpenBLAS starts a thread per
# core that fights torch's training threads for them: a 1 ms SVD took 43 ms during a run (measured). Set
# before numpy is first imported; a value the user exported wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "SimHei",
)


def _cjk_font(app) -> None:
    """Prefer a font with Chinese glyphs so 猫坐在垫子上 never renders as boxes."""
    from PySide6.QtGui import QFont, QFontDatabase

    available = set(QFontDatabase.families())
    font = QFont(app.font())
    families = [f for f in CJK_FAMILIES if f in available]
    if families:
        font.setFamilies([*families, *font.families()])
        app.setFont(font)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] and not args[0].startswith("-"):
        from core.cli import main as cli_main

        return cli_main(args)
    from PySide6.QtWidgets import QApplication

    import gui

    app = QApplication.instance() or QApplication([sys.argv[0], *args])
    app.setApplicationName("LLM Explorer")
    app.setOrganizationName("llm-explorer")
    _cjk_font(app)
    window = gui.create_main_window()
    window.show()
    code = app.exec()
    from gui import workers

    if not workers.stop_all(5.0):  # a thread stuck in engine work: leave without tearing it down mid-step
        sys.stdout.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
