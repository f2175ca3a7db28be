"""The race's verdict from its evaluations: a pure function, so the recorded race, a live one and the CLI
agree, and a test can check it by hand.

steps_ratio: the first evaluated step at which the distilled student's validation loss is at or below the
lone student's *final* one, over the lone student's steps (lower is better; None: never within the run).
coref_steps_ratio: the same for first reaching coreference top-1 ≥ 0.95 (它 → 猫); when the lone student never
reaches it, the lone step count is the budget and the ratio is an upper bound (coref_ratio_is_bound).
FLOPs: the distilled student's compute up to the match, over the lone student's whole run — with the live
teacher's forward passes counted, and with a cache (its one-off cost given separately)."""

from __future__ import annotations

COREF_GOAL = 0.95


def first_step(points: list[tuple[int, float]], ok) -> int | None:
    """The first (step, value) whose value passes `ok` (steps in increasing order)."""
    return next((step for step, value in points if ok(value)), None)


def race_verdict(
    distilled: list[tuple[int, float, float]],
    scratch: list[tuple[int, float, float]],
    steps: int,
    tokens_per_step: int,
    student_flops_per_token: float,
    teacher_forward_flops_per_token: float,
    teacher_training_flops: float | None = None,
) -> dict:
    """`distilled` / `scratch`: (step, val_loss, coref_acc) per evaluation, step 0 first."""
    if not distilled or not scratch:
        raise ValueError("a verdict needs both students' evaluations")
    lone_final = scratch[-1][1]
    lone_steps = scratch[-1][0] or steps
    match = first_step([(s, v) for s, v, _ in distilled], lambda v: v <= lone_final)
    coref_d = first_step([(s, c) for s, _, c in distilled], lambda c: c >= COREF_GOAL)
    coref_s = first_step([(s, c) for s, _, c in scratch], lambda c: c >= COREF_GOAL)
    per_token_live = student_flops_per_token + teacher_forward_flops_per_token
    lone_flops = lone_steps * tokens_per_step * student_flops_per_token
    out = {
        "steps": lone_steps,
        "lone_final_val_loss": lone_final,
        "distilled_final_val_loss": distilled[-1][1],
        "steps_to_match": match,
        "steps_ratio": match / lone_steps if match is not None else None,
        "coref_steps_distilled": coref_d,
        "coref_steps_scratch": coref_s,
        "coref_steps_ratio": coref_d / (coref_s or lone_steps) if coref_d is not None and lone_steps else None,
        "coref_ratio_is_bound": coref_s is None,
        "flops_per_token_ratio": per_token_live / student_flops_per_token,
        "flops_scratch": lone_flops,
        "flops_distilled_live": lone_steps * tokens_per_step * per_token_live,
        "flops_distilled_cached": lone_steps * tokens_per_step * student_flops_per_token,
        "teacher_cache_flops": lone_steps * tokens_per_step * teacher_forward_flops_per_token,
        "teacher_training_flops": teacher_training_flops,
    }
    if match is None:
        out.update(flops_ratio=None, flops_ratio_cached=None, break_even_students=None)
        return out
    match_tokens = match * tokens_per_step
    out["flops_to_match_live"] = match_tokens * per_token_live
    out["flops_to_match_cached"] = match_tokens * student_flops_per_token
    out["flops_ratio"] = out["flops_to_match_live"] / lone_flops
    out["flops_ratio_cached"] = out["flops_to_match_cached"] / lone_flops
    # With a cache the saving per student is what the lone run costs minus the distilled run to the match;
    # the teacher's own training pays off only after this many students (None: no saving to pay it with).
    saving = lone_flops - out["flops_to_match_cached"]
    out["break_even_students"] = (
        teacher_training_flops / saving if teacher_training_flops and saving > 0 else None
    )
    return out
