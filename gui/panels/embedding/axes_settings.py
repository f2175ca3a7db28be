"""The personality-tag table's axes and rows, kept in QSettings per language (a Chinese and an English
model have different words); a missing or damaged entry gives the defaults from the world's categories."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from core.embeddings.vectors import DEFAULT_WORDS, Axis, default_axes


def _key(what: str, lang: str) -> str:
    return f"embedding/{what}_{lang}"


def load(settings, lang: str, categories: Mapping[str, str], words: Sequence[str]):
    """(axes, row words) for `lang`."""
    axes = default_axes(categories, lang)
    rows = tuple(w for w in DEFAULT_WORDS.get(lang, ()) if w in categories) or tuple(words[:6])
    if settings is None:
        return axes, rows
    try:
        saved = json.loads(str(settings.value(_key("axes", lang), "") or "null"))
        if isinstance(saved, list):
            axes = [Axis(str(a["name"]), tuple(map(str, a["a"])), tuple(map(str, a["b"]))) for a in saved]
        saved_rows = json.loads(str(settings.value(_key("words", lang), "") or "null"))
        if isinstance(saved_rows, list) and saved_rows:
            rows = tuple(str(w) for w in saved_rows)
    except (ValueError, KeyError, TypeError):
        pass  # a damaged setting: the defaults
    return axes, rows


def save(settings, lang: str, axes: Sequence[Axis], rows: Sequence[str]) -> None:
    data = [{"name": a.name, "a": list(a.a), "b": list(a.b)} for a in axes]
    settings.setValue(_key("axes", lang), json.dumps(data, ensure_ascii=False))
    settings.setValue(_key("words", lang), json.dumps(list(rows), ensure_ascii=False))
