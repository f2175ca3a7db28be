"""The distillation losses as pure functions of tensors (tests check each against a hand computation).

kd_loss is Hinton et al.'s soft-label term: T² · KL(softmax(teacher / T) ‖ softmax(student / T)). The T²
keeps its gradient on the same scale as the cross-entropy's whatever T is (the softened gradients shrink
as 1/T²). hidden_loss and attention_loss are TinyBERT's "notes": what the teacher computes inside, on
layers matched uniformly, through a learned projection when the widths differ."""

from __future__ import annotations

import torch
import torch.nn.functional as F

EPS = 1e-9  # attention rows hold exact zeros (the causal mask); log of those is never taken


def _masked_mean(per_position: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    if mask is None:
        return per_position.mean()
    mask = mask.to(per_position.dtype)
    return (per_position * mask).sum() / mask.sum().clamp_min(1.0)


def kd_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    temperature: float = 1.0,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """T² · KL(p_teacher,T ‖ p_student,T) averaged over positions (where `mask` is true); logits (..., V)."""
    t = float(temperature)
    log_p_s = F.log_softmax(student_logits / t, dim=-1)
    log_p_t = F.log_softmax(teacher_logits / t, dim=-1)
    kl = (log_p_t.exp() * (log_p_t - log_p_s)).sum(-1)  # (...,)
    return t * t * _masked_mean(kl, mask)


def kd_loss_topk(
    student_logits: torch.Tensor,
    teacher_top_logp: torch.Tensor,
    top_indices: torch.Tensor,
    temperature: float = 1.0,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """kd_loss against a cached teacher that kept, per position, only the log-probabilities (at this T) of its
    k likeliest tokens: the KL is taken over those k tokens plus one bucket for "everything else" (the
    teacher's remaining mass against the student's), so no mass is invented by renormalising. With k equal
    to the vocabulary the bucket is empty and this is kd_loss."""
    t = float(temperature)
    log_q = F.log_softmax(student_logits / t, dim=-1).gather(-1, top_indices.long())  # (..., k)
    p_top = teacher_top_logp.exp()
    rest_t = (1.0 - p_top.sum(-1)).clamp_min(0.0)
    rest_s = (1.0 - log_q.exp().sum(-1)).clamp_min(1e-12)
    kl = (p_top * (teacher_top_logp - log_q)).sum(-1) + torch.xlogy(rest_t, rest_t) - rest_t * rest_s.log()
    return t * t * _masked_mean(kl, mask)


def layer_map(n_student: int, n_teacher: int) -> list[tuple[int, int]]:
    """Uniform mapping (TinyBERT): student block i (0-based) learns from teacher block (i+1)·Lt/Ls − 1, so
    the student's last block always meets the teacher's last."""
    return [(i, round((i + 1) * n_teacher / n_student) - 1) for i in range(n_student)]


def hidden_loss(
    student_hidden: list[torch.Tensor],
    teacher_hidden: list[torch.Tensor],
    projections: list[torch.nn.Module] | None = None,
    pairs: list[tuple[int, int]] | None = None,
) -> torch.Tensor:
    """Mean over mapped layers of MSE(W · h_student, h_teacher); hidden states (B, T, C) are the blocks'
    outputs (no embeddings). `projections[j]` maps the j-th pair's student width to the teacher's (identity
    when None)."""
    pairs = pairs or layer_map(len(student_hidden), len(teacher_hidden))
    total = student_hidden[0].new_zeros(())
    for j, (s, t) in enumerate(pairs):
        h = student_hidden[s] if projections is None else projections[j](student_hidden[s])
        total = total + F.mse_loss(h, teacher_hidden[t])
    return total / len(pairs)


def attention_loss(
    student_attn: list[torch.Tensor],
    teacher_attn: list[torch.Tensor],
    pairs: list[tuple[int, int]] | None = None,
) -> torch.Tensor:
    """Mean over mapped layers of KL(att_teacher ‖ att_student) per attention row; (B, nh, T, T) weights.
    When head counts differ both are averaged over heads first (a head of one has no partner in the other)."""
    pairs = pairs or layer_map(len(student_attn), len(teacher_attn))
    total = student_attn[0].new_zeros(())
    for s, t in pairs:
        a_s, a_t = student_attn[s], teacher_attn[t]
        if a_s.shape[1] != a_t.shape[1]:
            a_s, a_t = a_s.mean(1, keepdim=True), a_t.mean(1, keepdim=True)
        kl = (a_t * (torch.log(a_t + EPS) - torch.log(a_s + EPS))).sum(-1)  # (B, nh, T)
        total = total + kl.mean()
    return total / len(pairs)
