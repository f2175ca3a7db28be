"""Where a training step's time goes: torch.profiler's self CPU time per op, grouped by kind, for this
project's step (`core.training.step.train_step`), the same step with `torch.optim.AdamW(fused=True)` (what the
trainer used before `core.training.optim.AdamW`) and nanoGPT's (see vs_nanogpt.py), taken in turn.

    python3 benchmarks/step_profile.py --config reference [--steps 30]"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, str(Path(__file__).resolve().parent))

from vs_nanogpt import CONFIGS, NANOGPT, load_nanogpt, ours, theirs  # noqa: E402

from core.config import TrainConfig  # noqa: E402
from core.training.step import train_step  # noqa: E402

KINDS = (  # the first pattern an op's name contains decides its kind
    ("cross-entropy", ("nll", "log_softmax", "cross_entropy")),
    ("matmul", ("mm", "matmul", "linear", "addmm", "bmm", "baddbmm")),
    ("attention", ("attention", "softmax")),
    ("GELU", ("gelu",)),
    ("layer norm", ("layer_norm",)),
    ("optimizer", ("adam", "foreach", "norm", "clamp")),
    ("copy / fill", ("copy", "fill", "zero", "clone", "contiguous", "empty")),
)


def _kind(name: str) -> str:
    lowered = name.lower()
    return next((kind for kind, keys in KINDS if any(k in lowered for k in keys)), "other")


def with_torch_adamw(cfg):
    torch.manual_seed(0)
    from core.model.gpt import GPT
    from core.training.optim import adamw

    model, tc = GPT(cfg), TrainConfig()
    groups = [{"params": g["params"], "weight_decay": g["weight_decay"]} for g in adamw(model, tc).param_groups]
    optimizer = torch.optim.AdamW(groups, lr=tc.lr, betas=(0.9, 0.95), fused=True)
    params = list(model.parameters())
    return lambda x, y: train_step(model, params, optimizer, x, y, tc.grad_clip)


def profile_step(step, x, y, steps: int) -> dict[str, float]:
    """Each kind's self CPU time in ms per step (summed over threads' ops as the profiler counts them)."""
    for _ in range(3):
        step(x, y)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step(x, y)
    shares: dict[str, float] = defaultdict(float)
    for event in prof.key_averages():
        if event.key.startswith("aten::"):
            shares[_kind(event.key)] += event.self_cpu_time_total
    return {k: v / 1000 / steps for k, v in shares.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", choices=sorted(CONFIGS), default="reference")
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    cfg, batch = CONFIGS[args.config]
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(0, cfg.vocab_size, (batch, cfg.block_size), generator=gen)
    y = torch.randint(0, cfg.vocab_size, (batch, cfg.block_size), generator=gen)
    sides = {
        "ours": ours(cfg),
        "ours, torch.optim AdamW": with_torch_adamw(cfg),
        "nanoGPT": theirs(load_nanogpt(NANOGPT), cfg),
    }
    results = {name: profile_step(step, x, y, args.steps) for name, step in sides.items()}
    kinds = [k for k, _ in KINDS] + ["other"]
    threads = torch.get_num_threads()
    print(f"{args.config}: ops' self CPU time, ms per step (share), {args.steps} steps each, {threads} threads")
    print(f"{'kind':14s}" + "".join(f"{name:>26s}" for name in results))
    totals = {name: sum(r.values()) or 1.0 for name, r in results.items()}
    for kind in kinds + ["total"]:
        cells = []
        for name, r in results.items():
            ms = totals[name] if kind == "total" else r.get(kind, 0.0)
            cells.append(f"{ms:16.2f} ({ms / totals[name] * 100:5.1f} %)")
        print(f"{kind:14s}" + "".join(cells))


if __name__ == "__main__":
    main()
