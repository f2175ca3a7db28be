"""The frozen teacher: checks that it can teach this student, and gives its outputs for a batch — computed
on the fly (live) or read from a cache made once before training (offline distillation).

What the cache keeps: for every training batch of the run (a batch is a function of seed and step, so any
student with that seed draws exactly these), the teacher's log-probabilities at the run's temperature for its
`top_k` likeliest tokens per position, and their token ids (float32 + int16/int32); the rest of its mass is
one number implied by them. Not its hidden states or attention: those are (B, T, C) per layer per
step, megabytes a step, so the "notes" need the live teacher."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from core.model.checkpoint import Checkpoint
from core.model.gpt import GPT
from core.model.tokenizer import Tokenizer


def freeze(model: GPT) -> GPT:
    """Eval mode and no gradients: the teacher only answers."""
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def check_compatible(
    teacher: Checkpoint, student_tokenizer: Tokenizer, objective: str, block_size: int
) -> None:
    """One clear ValueError when this teacher cannot teach this student (soft labels are per token id, so
    both must read text with the same tokenizer)."""
    if teacher.tokenizer.to_dict() != student_tokenizer.to_dict():
        raise ValueError(
            f"the teacher reads text with another tokenizer ({teacher.tokenizer.kind}, "
            f"{teacher.tokenizer.vocab_size} tokens) than the student ({student_tokenizer.kind}, "
            f"{student_tokenizer.vocab_size} tokens): its soft labels would name other tokens"
        )
    if teacher.model_cfg.objective != objective:
        raise ValueError(
            f"the teacher's objective is {teacher.model_cfg.objective!r} and the student's is {objective!r}: "
            "a fill-in-the-blank model cannot teach next-token prediction (or the reverse)"
        )
    if teacher.model_cfg.block_size < block_size:
        raise ValueError(
            f"the teacher reads {teacher.model_cfg.block_size} tokens at a time, fewer than the student's "
            f"{block_size}"
        )


@dataclass
class TeacherOutputs:
    logits: torch.Tensor | None = None  # (B, T, V), live only
    top_logp: torch.Tensor | None = None  # (B, T, k) log-probabilities at T, cached only
    top_indices: torch.Tensor | None = None
    hidden: list[torch.Tensor] | None = None  # blocks' outputs (B, T, C_t), live only
    attentions: list[torch.Tensor] | None = None  # (B, nh_t, T, T), live only


@torch.no_grad()
def live_outputs(teacher: GPT, x: torch.Tensor, need_hidden: bool, need_attn: bool) -> TeacherOutputs:
    out = teacher(x, need_attn=need_attn, need_hidden=need_hidden)
    return TeacherOutputs(
        logits=out.logits, hidden=out.hidden_states[1:] if need_hidden else None, attentions=out.attentions
    )


class TeacherCache:
    """The teacher's top-k log-probabilities for steps 0..n-1 of a run, made once (on the teacher's device)."""

    def __init__(self, key: tuple, values: torch.Tensor, indices: torch.Tensor, seconds: float):
        self.key = key
        self.values = values  # (steps, B, T, k) float32
        self.indices = indices  # (steps, B, T, k) int16 / int32
        self.seconds = seconds  # time it took to make
        self.reused = False

    @property
    def steps(self) -> int:
        return self.values.shape[0]

    @property
    def nbytes(self) -> int:
        return self.values.element_size() * self.values.nelement() + self.indices.element_size() * (
            self.indices.nelement()
        )

    def outputs(self, step: int) -> TeacherOutputs:
        return TeacherOutputs(top_logp=self.values[step], top_indices=self.indices[step])

    @classmethod
    @torch.no_grad()
    def build(
        cls,
        key: tuple,
        teacher: GPT,
        batch_at: Callable[[int], tuple[torch.Tensor, torch.Tensor]],
        steps: int,
        top_k: int,
        temperature: float,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> TeacherCache | None:
        """Run the teacher over every batch of the run; None if asked to stop meanwhile."""
        t0 = time.perf_counter()
        k = min(top_k, teacher.cfg.vocab_size)
        index_type = torch.int16 if teacher.cfg.vocab_size <= 32_767 else torch.int32
        values, indices = [], []
        for step in range(steps):
            if should_stop():
                return None
            x, _ = batch_at(step)
            logp = torch.log_softmax(teacher(x).logits.float() / temperature, dim=-1)
            top = logp.topk(k, dim=-1)
            values.append(top.values)
            indices.append(top.indices.to(index_type))
        return cls(key, torch.stack(values), torch.stack(indices), time.perf_counter() - t0)


# The last cache made, kept for the next run with the same teacher, seed and batch shape (a second race, or
# a longer one, reuses it: that reuse is what makes offline distillation cheap). One entry: it can be large.
_last: TeacherCache | None = None
_lock = threading.Lock()


def cached(key: tuple, steps: int) -> TeacherCache | None:
    with _lock:
        if _last is not None and _last.key == key and _last.steps >= steps:
            _last.reused = True
            return _last
    return None


def remember(cache: TeacherCache) -> None:
    global _last
    with _lock:
        _last = cache


def forget() -> None:
    global _last
    with _lock:
        _last = None
