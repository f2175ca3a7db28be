"""`llm-explorer` / `python main.py`: open the window, or forward a subcommand to the headless CLI.

Startup stays fast by not importing torch here: the window is shown first, the engine loads in workers."""

from __future__ import annotations

import argparse
import os
import sys

# numpy's work in this process is tiny (a PCA of ~50 word vectors), but its OpenBLAS starts a thread per
# core that fights torch's training threads for them: a 1 ms SVD took 43 ms during a run (measured). Set
# before numpy is first imported; a value the user exported wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def _cjk_font(app) -> None:
    """Prefer a font with Chinese glyphs so 猫坐在垫子上 never renders as boxes (the bundled one if none is
    installed); scripts and benchmarks call this as the app does."""
    from gui.fonts import install_cjk_font

    install_cjk_font(app)


def usage() -> str:
    """`--help`: the window's own options, then the headless subcommands (their parser imports no torch)."""
    from core.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    lines = [
        "usage: llm-explorer [--help] [--version] [Qt options]   open the window",
        "       llm-explorer COMMAND [options] [--json]          the headless engine (also: python3 -m core)",
        "",
        "commands:",
        *(f"  {a.dest:10s} {a.help}" for a in commands._choices_actions),
        "",
        "llm-explorer COMMAND --help shows a command's options. With no display, run a command or set",
        "QT_QPA_PLATFORM=offscreen.",
    ]
    return "\n".join(lines)


def no_display(args: list[str]) -> str | None:
    """On Linux without X11 or Wayland, Qt would abort ("could not load the Qt platform plugin"): say what
    to do instead, in one line."""
    if not sys.platform.startswith("linux") or "-platform" in args:
        return None
    if any(os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")):
        return None
    return (
        "llm-explorer: no display (DISPLAY and WAYLAND_DISPLAY are unset): run the headless engine, "
        "e.g. `llm-explorer train --preset tiny` (`llm-explorer --help` lists the commands), "
        "or open the window offscreen with QT_QPA_PLATFORM=offscreen"
    )


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] and not args[0].startswith("-"):
        from core.cli import main as cli_main

        return cli_main(args)
    if "-h" in args or "--help" in args:
        print(usage())
        return 0
    if "--version" in args:
        from core import __version__

        print(f"llm-explorer {__version__}")
        return 0
    problem = no_display(args)
    if problem:
        print(problem, file=sys.stderr)
        return 2
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
