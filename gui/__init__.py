"""LLM Explorer's Qt interface. `create_main_window()` is the one entry point (app, tests, screenshots)."""

from __future__ import annotations


def create_main_window(settings_path: str | None = None):
    """Build the fully wired main window (a QApplication must exist; the window is not shown).

    `settings_path` points QSettings at an ini file (tests and screenshots never touch the user's)."""
    from gui import i18n, workers
    from gui.context import AppContext, make_settings
    from gui.main_window import MainWindow

    # Workers free objects too; a collection there can destroy Qt wrappers off the GUI thread (a deadlock).
    workers.collect_garbage_on_gui_thread()
    settings = make_settings(settings_path)
    lang = settings.value("language")
    i18n.set_language(lang if lang in ("zh", "en") else i18n.system_language())
    context = AppContext(settings)
    window = MainWindow(context)
    context.setParent(window)
    return window


__all__ = ["create_main_window"]
