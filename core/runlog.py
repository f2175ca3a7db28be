"""A run's log on disk, metrics.jsonl: one JSON object per event, written by the trainer (and the
distiller) and read back by the CLI, the tests and the GUI's run folders. Writer and reader live here
together so the format has one definition."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from core.events import Done, Eval, Failed, Started, Step


class RunLog:
    """metrics.jsonl: one JSON object per event, appended and closed at once so a crash loses nothing
    written (at ~30 lines a second, opening the file each time costs nothing that matters)."""

    def __init__(self, path: Path):
        self.path = path

    def write(self, kind: str, event) -> None:
        record = {"type": kind, **{k: v for k, v in asdict(event).items() if not isinstance(v, np.ndarray)}}
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


def metrics_records(path: str | os.PathLike) -> Iterator[dict | None]:
    """Each non-blank line of a run's metrics.jsonl (give the folder or the file): its record, or None
    for a line that is not a JSON object with a "type" (a run killed mid-write leaves one)."""
    path = Path(path)
    if path.suffix != ".jsonl":
        path = path / "metrics.jsonl"
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                record = None
            yield record if isinstance(record, dict) and "type" in record else None


def read_metrics(path: str | os.PathLike) -> list[dict]:
    """The readable records of a run's metrics.jsonl, in order."""
    return [r for r in metrics_records(path) if r is not None]


class RunFolderError(ValueError):
    """A run folder without a readable metrics.jsonl (message is for a person)."""


@dataclass
class RunHistory:
    """A finished (or interrupted) run read back from disk."""

    run_dir: str
    started: Started | None = None
    steps: list[Step] = field(default_factory=list)
    evals: list[Eval] = field(default_factory=list)
    end: Done | Failed | None = None
    skipped_lines: int = 0


_TYPES = {"started": Started, "step": Step, "eval": Eval, "done": Done, "failed": Failed}
_REQUIRED = {
    "step": ("step", "loss"),
    "eval": ("step", "val_loss"),
    "done": ("reason",),
    "failed": ("message",),
}
_DEFAULTS = {int: 0, float: 0.0, str: "", "int": 0, "float": 0.0, "str": ""}


def _event_from_json(obj: dict) -> Any:
    """Build an event from one metrics.jsonl object; missing optional fields get neutral defaults."""
    kind = obj.get("type")
    cls = _TYPES[kind]
    if any(key not in obj for key in _REQUIRED.get(kind, ())):
        raise KeyError(kind)
    kwargs = {}
    for f in fields(cls):
        if f.name in obj:
            kwargs[f.name] = obj[f.name]
        elif f.name == "metrics":
            kwargs[f.name] = {}
        else:
            kwargs[f.name] = _DEFAULTS.get(f.type, 0)
    return cls(**kwargs)


def read_run_folder(path: str) -> RunHistory:
    """Parse `<path>/metrics.jsonl`, skipping lines that are not valid events."""
    metrics = path if path.endswith(".jsonl") else os.path.join(path, "metrics.jsonl")
    run_dir = os.path.dirname(metrics)
    if not os.path.isfile(metrics):
        raise RunFolderError(f"no metrics.jsonl in {run_dir}")
    history = RunHistory(run_dir=run_dir)
    for record in metrics_records(metrics):
        try:
            event = _event_from_json(record) if record is not None else None
        except (ValueError, KeyError, TypeError, AttributeError):
            event = None
        if event is None:
            history.skipped_lines += 1
        elif isinstance(event, Started):
            history.started = event
        elif isinstance(event, Step):
            history.steps.append(event)
        elif isinstance(event, Eval):
            history.evals.append(event)
        else:
            history.end = event
    if not history.steps and not history.evals:
        raise RunFolderError(f"metrics.jsonl in {run_dir} has no training steps")
    return history
