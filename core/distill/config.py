"""The distillation settings, bounded before anything runs (a form or the CLI gets its error at once)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.config import ConfigError


@dataclass(frozen=True)
class DistillConfig:
    temperature: float = 1.0  # T: softens both distributions; this teacher is near the corpus floor, so 1 won
    alpha: float = 0.9  # weight of the soft-label term; 1 − α goes to the true next token (cross-entropy)
    hidden_weight: float = 0.0  # w_h: MSE between projected student and teacher hidden states
    attn_weight: float = 0.0  # w_a: KL between teacher and student attention on mapped layers
    cache_teacher: bool = False  # the teacher's top-k logits made once before training, instead of live
    top_k: int = 16  # tokens the cache keeps per position (97.8 % of this teacher's mass on average)
    compare_scratch: bool = True  # race: the same student, same start, same batches, learning alone

    def validate(self) -> DistillConfig:
        t, a = self.temperature, self.alpha
        if not isinstance(t, (int, float)) or isinstance(t, bool) or not math.isfinite(t) or not 0 < t <= 100:
            raise ConfigError(f"temperature must be above 0 (and at most 100), not {t!r}")
        if not isinstance(a, (int, float)) or isinstance(a, bool) or not 0.0 <= a <= 1.0:
            raise ConfigError(f"alpha must be between 0 and 1, not {a!r}")
        for name in ("hidden_weight", "attn_weight"):
            w = getattr(self, name)
            if (
                not isinstance(w, (int, float))
                or isinstance(w, bool)
                or not math.isfinite(w)
                or not 0 <= w <= 1e4
            ):
                raise ConfigError(f"{name} must be 0 or more (at most 10000), not {w!r}")
        if isinstance(self.top_k, bool) or not isinstance(self.top_k, int) or not 1 <= self.top_k <= 100_000:
            raise ConfigError(f"top_k must be a whole number from 1, not {self.top_k!r}")
        if self.cache_teacher and (self.hidden_weight or self.attn_weight):
            raise ConfigError(
                "a cached teacher keeps only its top-k logits: hidden-state and attention transfer need the "
                "live teacher (turn the cache off, or set both weights to 0)"
            )
        return self

    @property
    def needs_hidden(self) -> bool:
        return self.hidden_weight > 0

    @property
    def needs_attention(self) -> bool:
        return self.attn_weight > 0
