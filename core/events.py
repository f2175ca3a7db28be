"""What a training run tells its consumer. Frozen, plain floats and numpy copies only — safe to hand to
another thread (the GUI) because nothing here aliases a tensor the trainer keeps writing."""

from __future__ import annotations

from dataclasses import dataclass, field

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
    metrics: dict[str, float] = field(default_factory=dict)  # probe scores, see core.analysis.probes


@dataclass(frozen=True)
class Snapshot:
    step: int
    embedding_tokens: tuple[str, ...]  # entity tokens whose vectors are in `embeddings`
    embedding_categories: tuple[str, ...]  # category of each such token
    embeddings: np.ndarray  # (n, n_embd) float32 copy
    probe_text: str
    probe_tokens: tuple[str, ...]
    attention: np.ndarray  # (n_layer, n_head, T, T) float32 copy for the probe sentence
    token_embeddings: np.ndarray | None = None  # (vocab, n_embd) float16 copy: every token (the time-lapse)
    token_labels: tuple[str, ...] = ()  # each token as a person reads it (core.model.tokenizer.token_label)


@dataclass(frozen=True)
class Preparing:
    stage: str  # "corpus", "tokenizer" or "encoding": what the run is doing before its first step
    done: int  # units of the stage done (characters encoded, …)
    total: int  # units in the stage (0: not known)


@dataclass(frozen=True)
class Done:
    reason: str  # "finished", "stopped", "time", or "abandoned" (window closed without saving)
    metrics: dict[str, float]
    checkpoint_path: str


@dataclass(frozen=True)
class Failed:
    message: str  # one line for a person; the last good checkpoint (if any) is kept
    checkpoint_path: str = ""
    bad_input: bool = False  # the input (text, config) is the problem, not the run: the CLI exits 2


Event = Started | Preparing | Step | Eval | Snapshot | Done | Failed
