"""Number formatting for read-outs: short, unit-aware, the same in both languages."""

from __future__ import annotations

import math

A100_PEAK_FLOPS = 312e12  # dense bf16 tensor-core peak of one A100, FLOP/s


def si(value: float, digits: int = 3) -> str:
    """1234567 → '1.23 M': readable magnitudes without scientific notation for learners."""
    if value is None or not math.isfinite(value):
        return "–"
    for factor, suffix in ((1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.{digits}g} {suffix}"
    return f"{value:.{digits}g}"


def duration(seconds: float) -> str:
    """Seconds as '45 s', '3 min 20 s', '2 h 05 min', or sub-second as ms / µs."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "–"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3g} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"


def a100_seconds(flops: float, mfu: float = 0.4) -> float:
    """How long one A100 needs for `flops` at the given model-FLOPs utilisation."""
    return flops / (A100_PEAK_FLOPS * mfu)
