"""Every path to bundled data, in one place: `resources/` beside the packages in a checkout or an
editable install, and the `resources` package a wheel installs (found through importlib.resources).

$LLM_EXPLORER_MODELS moves the models folder (tests point it at an empty one, so no window loads a model)."""

from __future__ import annotations

import json
import os
from functools import cache
from importlib import resources as _importlib_resources
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent / "resources"


@cache
def root() -> Path:
    """The folder that holds models/, data/ and fonts/."""
    if (_CHECKOUT / "data").is_dir():
        return _CHECKOUT
    return Path(str(_importlib_resources.files("resources")))


def data_file(name: str) -> Path:
    """resources/data/<name>: GPUs, presets of published models, the article's claims."""
    return root() / "data" / name


def read_json(name: str) -> dict:
    return json.loads(data_file(name).read_text(encoding="utf-8"))


def models_dir() -> Path:
    return Path(os.environ.get("LLM_EXPLORER_MODELS") or root() / "models")


def bundled_model(kind: str = "default", lang: str = "zh") -> Path:
    """resources/models/<kind>.safetensors, or <kind>_en.safetensors for English where one is bundled
    (it may not exist: callers say so in their own words)."""
    english = models_dir() / f"{kind}_en.safetensors"
    if lang == "en" and english.is_file():
        return english
    return models_dir() / f"{kind}.safetensors"


def startup_model(lang: str = "zh") -> Path | None:
    """The bundled model a window shows at launch: `default` first (`default_en` first in English), else
    any complete one, else None."""
    folder = models_dir()
    if not folder.is_dir():
        return None
    first = "default_en." if lang == "en" else "default."

    def order(path: Path) -> tuple:
        return not path.name.startswith(first), not path.name.startswith("default"), path.name

    for path in sorted(folder.iterdir(), key=order):
        if path.suffix == ".safetensors" and path.with_suffix(".json").is_file():
            return path
        if (path / "model.json").is_file():
            return path
    return None


def fonts_dir() -> Path:
    return root() / "fonts"
