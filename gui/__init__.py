"""LLM Explorer's Qt interface. `create_main_window()` is the one entry point (app, tests, screenshots)."""

from __future__ import annotations

import sys

GUI_SWITCH_INTERVAL_S = 0.001


def create_main_window(settings_path: str | None = None):
    """Build the fully wired main window (a QApplication must exist; the window is not shown).

    `settings_path` points QSettings at an ini file (tests and screenshots never touch the user's)."""
    from gui import i18n, workers
    from gui.context import AppContext, make_settings
    from gui.main_window import MainWindow

    # Workers free objects too; a collection there can destroy Qt wrappers off the GUI thread (a deadlock).
    workers.collect_garbage_on_gui_thread()
    # Every Qt virtual call on a widget made in Python (each paint, each size hint) takes the GIL. While a
    # worker runs pure Python (building the world text when a run starts) each such take waited up to the
    # 5 ms switch interval: a repaint of the training form after the Train click took 400 ms. At 1 ms the
    # wait is a fifth of that; the worker pays a few extra GIL hand-overs per millisecond.
    sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)
    settings = make_settings(settings_path)
    lang = settings.value("language")
    i18n.set_language(lang if lang in ("zh", "en") else i18n.system_language())
    context = AppContext(settings)
    window = MainWindow(context)
    context.setParent(window)
    return window


__all__ = ["create_main_window"]
