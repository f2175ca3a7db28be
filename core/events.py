"""What a training run tells its consumer. Frozen, plain floats and numpy copies only — safe to hand to
another thread (the GUI) because nothing here aliases a tensor the trainer keeps writing."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Started:
    run_dir: str  # where metrics.jsonl and the checkpoint go
    preset: str
    n_params: int  # all parameters (embeddings included)
    total_steps: int  # 0 when the run is bounded by seconds instead
    total_seconds: float  # 0 when bounded by steps
    vocab_size: int
    corpus_chars: int


@dataclass(frozen=True)
class Step:
    step: int  # optimizer steps done
    tokens: int  # training tokens consumed so far
    loss: float  # training loss, mean over the steps since the last Step event
    lr: float
    tokens_per_s: float  # over the steps since the last Step event
    flops: float  # training FLOPs so far (6N + attention per token)
    elapsed_s: float
    progress: float  # 0..1 of the step or time budget


@dataclass(frozen=True)
class Eval:
    step: int
    val_loss: float
    metrics: dict[str, float] = field(default_factory=dict)  # probe scores, see core.probes


@dataclass(frozen=True)
class Snapshot:
    step: int
    embedding_tokens: tuple[str, ...]  # entity tokens whose vectors are in `embeddings`
    embedding_categories: tuple[str, ...]  # category of each such token
    embeddings: np.ndarray  # (n, n_embd) float32 copy
    probe_text: str
    probe_tokens: tuple[str, ...]
    attention: np.ndarray  # (n_layer, n_head, T, T) float32 copy for the probe sentence


@dataclass(frozen=True)
class Done:
    reason: str  # "finished", "stopped" or "time"
    metrics: dict[str, float]
    checkpoint_path: str


@dataclass(frozen=True)
class Failed:
    message: str  # one line for a person; the last good checkpoint (if any) is kept
    checkpoint_path: str = ""


Event = Started | Step | Eval | Snapshot | Done | Failed


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
