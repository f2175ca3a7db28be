"""One optimizer step, the same for the trainer and the benchmarks: loss, backward, clipping, AdamW.
Kept in one place so `benchmarks/vs_nanogpt.py` times exactly what a run does."""

from __future__ import annotations

import math
import os

import torch

from core.training.batches import compute_loss
from core.training.optim import AdamW

TORCH_DEFAULT_THREADS = torch.get_num_threads()  # one per core, before any run changes it


def threads_for_now() -> int:
    """torch's default thread count, or 1 when other work already keeps every core busy (1-minute load
    average ≥ cores). Then each parallel kernel waits for its second thread to be scheduled: on 2 cores at
    load 13 the `default` step ran 5-7× slower on 2 threads than on 1 (measured in turn, step by step),
    and a 60-s run reached 24 steps; on a quiet machine 2 threads are ~1.5× faster than 1."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # not every platform reports a load
        return TORCH_DEFAULT_THREADS
    return 1 if load >= cores else TORCH_DEFAULT_THREADS


class NonFiniteLoss(Exception):
    """The loss of a step was NaN or infinite; the weights were not updated."""


def train_step(
    model: torch.nn.Module,
    params: list[torch.nn.Parameter],
    optimizer: AdamW,
    x: torch.Tensor,
    y: torch.Tensor,
    grad_clip: float,
) -> float:
    """One step on (x, y); returns the loss before the update. A non-finite loss raises before any
    weight changes, so the last good state is kept."""
    loss = compute_loss(model, x, y)
    value = loss.item()
    if not math.isfinite(value):
        raise NonFiniteLoss(value)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if grad_clip:
        torch.nn.utils.clip_grad_norm_(params, grad_clip)
    optimizer.step()
    return value
