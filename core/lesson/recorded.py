"""The bundled models' recorded build runs (resources/models/metrics.json), so the training step can show
a real run's result without a learner waiting for one."""

from __future__ import annotations

import json

from core import resources


def recorded_run(kind: str = "default") -> dict | None:
    """The final metrics of the run that built the bundled `kind` model, or None when not bundled."""
    path = resources.models_dir() / "metrics.json"
    try:
        runs = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    run = runs.get(kind) if isinstance(runs, dict) else None
    return dict(run) if isinstance(run, dict) else None
