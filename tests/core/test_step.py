"""The training step the trainer and benchmarks share gives the loss curve of the plain textbook step
(loss, zero_grad, backward, clip, AdamW), so any speed-up of it keeps the mathematics."""

from __future__ import annotations

import pytest
import torch

from core.config import TrainConfig
from core.model.gpt import GPT
from core.training.batches import compute_loss, sample_batch
from core.training.optim import adamw
from core.training.step import NonFiniteLoss, train_step

STEPS = 200
# Float sums may be ordered differently by a faster kernel; a change of the mathematics moves the
# loss by far more than this within 200 steps.
RELATIVE_TOLERANCE = 1e-4


def _curve(cfg, ids, tok, step_fn) -> list[float]:
    torch.manual_seed(0)
    model = GPT(cfg)
    tc = TrainConfig(lr=3e-3)
    optimizer, params = adamw(model, tc), list(model.parameters())
    losses = []
    for i in range(STEPS):
        gen = torch.Generator().manual_seed(i)
        x, y = sample_batch(ids, 8, cfg.block_size, cfg.objective, tok, gen)
        losses.append(step_fn(model, params, optimizer, x, y, tc.grad_clip))
    return losses


def _textbook_step(model, params, optimizer, x, y, grad_clip) -> float:
    loss = compute_loss(model, x, y)
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    return loss.item()


@pytest.mark.slow
def test_200_steps_give_the_textbook_loss_curve(zh_world, zh_tokenizer, tiny_model_cfg):
    from dataclasses import replace

    cfg = replace(tiny_model_cfg, vocab_size=zh_tokenizer.vocab_size)
    ids = torch.tensor(zh_tokenizer.encode(zh_world.train_text))
    ours = _curve(cfg, ids, zh_tokenizer, train_step)
    textbook = _curve(cfg, ids, zh_tokenizer, _textbook_step)
    assert ours[-1] < 0.7 * ours[0]  # it learned, so the comparison is not between two flat lines
    assert ours == pytest.approx(textbook, rel=RELATIVE_TOLERANCE)


def test_a_non_finite_loss_leaves_the_weights_alone(tiny_model_cfg):
    model = GPT(tiny_model_cfg)
    optimizer, params = adamw(model, TrainConfig()), list(model.parameters())
    with torch.no_grad():
        model.ln_f.weight.fill_(float("nan"))
    x = torch.zeros(2, 8, dtype=torch.long)
    with pytest.raises(NonFiniteLoss):
        train_step(model, params, optimizer, x, x, 1.0)
    assert all(p.grad is None for p in params)  # no backward, so no optimizer step either


def test_a_busy_machine_trains_on_one_thread(monkeypatch):
    import os

    import core.training.step as step

    cores = len(os.sched_getaffinity(0))
    monkeypatch.setattr(os, "getloadavg", lambda: (float(cores), 0.0, 0.0))
    assert step.threads_for_now() == 1
    monkeypatch.setattr(os, "getloadavg", lambda: (cores - 0.9, 0.0, 0.0))
    assert step.threads_for_now() == step.TORCH_DEFAULT_THREADS

    def no_load():
        raise OSError

    monkeypatch.setattr(os, "getloadavg", no_load)
    assert step.threads_for_now() == step.TORCH_DEFAULT_THREADS
