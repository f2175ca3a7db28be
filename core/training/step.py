"""One optimizer step, the same for the trainer and the benchmarks: loss, backward, clipping, AdamW.
Kept in one place so `benchmarks/vs_nanogpt.py` times exactly what a run does."""

from __future__ import annotations

import math

import torch

from core.training.batches import compute_loss


class NonFiniteLoss(Exception):
    """The loss of a step was NaN or infinite; the weights were not updated."""


def train_step(
    model: torch.nn.Module,
    params: list[torch.nn.Parameter],
    optimizer: torch.optim.Optimizer,
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
