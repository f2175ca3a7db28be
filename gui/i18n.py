"""Two languages, one rule: every visible string is written as `tr("中文", "English")` at the place it is
shown, and each panel re-applies its strings in `retranslate()` when the language changes."""

from __future__ import annotations

from collections.abc import Callable

_language = "zh"
_listeners: list[Callable[[], None]] = []


def language() -> str:
    return _language


def set_language(lang: str) -> None:
    """Switch live: every registered listener (panels, menus) re-applies its strings."""
    global _language
    if lang not in ("zh", "en"):
        raise ValueError(f"unknown language {lang!r}")
    if lang != _language:
        _language = lang
        for listener in list(_listeners):
            listener()


def on_language_changed(listener: Callable[[], None]) -> None:
    _listeners.append(listener)


def forget_listener(listener: Callable[[], None]) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def tr(zh: str, en: str) -> str:
    return zh if _language == "zh" else en


def chance_note(chance: float | None) -> str:
    """The chance level after a score: "（随机 0.50）" / " (chance 0.50)"; empty when unknown."""
    if chance is None:
        return ""
    return tr(f"（随机 {chance:.2f}）", f" (chance {chance:.2f})")


def system_language() -> str:
    """The OS locale's language if we speak it; Chinese otherwise (the audience reads Chinese first)."""
    from PySide6.QtCore import QLocale

    return "en" if QLocale.system().language() == QLocale.Language.English else "zh"
