"""This project's training step against nanoGPT's on the same config and batch, alternated in one process.

Ours is `core.training.step.train_step`, exactly what a run does (its loss, clipping and fused AdamW);
nanoGPT's is its model.py (../shared/peers/nanogpt, imported by path: a peer for measurement only, none
of its code is in the project) with the step of its train.py: `model(x, y)`, backward, clip at 1.0, and
the AdamW its `configure_optimizers` builds for a CPU. Both have biases and tied embeddings, so both do
the same mathematics; FLOPs are counted once (PaLM's full-attention count) for both. Each round measures
this CPU's FMA peak (benchmarks/fma_peak.c) then both steps, so a slow minute on a shared machine hits
every figure alike, and within a round the two steps take turns step by step: compare the ratios.

    python3 benchmarks/vs_nanogpt.py --config reference [--rounds 5] [--steps 20] [--threads 2] [--dropout 0.1]

`--dropout` trains both sides with dropout, each its own kind: the steps a user of each would run, no longer
the same mathematics."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from train_throughput import fma_peak  # noqa: E402

from core.config import PRESETS, ModelConfig, TrainConfig  # noqa: E402
from core.cost.flops import model_flops_per_token  # noqa: E402
from core.model.gpt import GPT  # noqa: E402
from core.training.optim import adamw  # noqa: E402
from core.training.step import train_step  # noqa: E402

NANOGPT = HERE.parent.parent / "shared" / "peers" / "nanogpt" / "model.py"
# name: (model config, batch). `default` at the Chinese world's vocabulary (~140 characters), without
# its attention dropout: the peer runs with dropout 0, and the two steps must do the same mathematics.
CONFIGS = {
    "default": (
        replace(PRESETS["default"].model, vocab_size=140, dropout=0.0),
        PRESETS["default"].train.batch_size,
    ),
    "reference": (ModelConfig(vocab_size=2000, n_layer=4, n_head=4, n_embd=128, block_size=64), 32),
    "large": (ModelConfig(vocab_size=2000, n_layer=6, n_head=8, n_embd=256, block_size=128), 32),
}


def load_nanogpt(path: Path):
    spec = importlib.util.spec_from_file_location("nanogpt_peer", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ours(cfg: ModelConfig):
    torch.manual_seed(0)
    model = GPT(cfg)
    tc = TrainConfig()
    optimizer, params = adamw(model, tc), list(model.parameters())
    return lambda x, y: train_step(model, params, optimizer, x, y, tc.grad_clip)


def theirs(nanogpt, cfg: ModelConfig):
    torch.manual_seed(0)
    gcfg = nanogpt.GPTConfig(
        block_size=cfg.block_size,
        vocab_size=cfg.vocab_size,
        n_layer=cfg.n_layer,
        n_head=cfg.n_head,
        n_embd=cfg.n_embd,
        dropout=cfg.dropout,
        bias=True,
    )
    with contextlib.redirect_stdout(io.StringIO()):  # it prints parameter counts
        model = nanogpt.GPT(gcfg)
        tc = TrainConfig()
        optimizer = model.configure_optimizers(tc.weight_decay, tc.lr, (0.9, 0.95), "cpu")

    def step(x, y):
        _, loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), tc.grad_clip)
        optimizer.step()

    return step


def paired_seconds(steps_a, steps_b, x, y, steps: int, warmup: int = 3) -> tuple[float, float]:
    """Median seconds per step of two steps timed in turn, step by step (a, b, a, b, ...): on a busy
    machine both see the same moments' load."""
    for _ in range(warmup):
        steps_a(x, y)
        steps_b(x, y)
    times_a, times_b = [], []
    for _ in range(steps):
        for step, times in ((steps_a, times_a), (steps_b, times_b)):
            t = time.perf_counter()
            step(x, y)
            times.append(time.perf_counter() - t)
    return statistics.median(times_a), statistics.median(times_b)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", choices=sorted(CONFIGS), default="reference")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps of each side per round")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--nanogpt", type=Path, default=NANOGPT, help="path of nanoGPT's model.py")
    parser.add_argument(
        "--dropout",
        type=float,
        default=0.0,
        help="both sides train with dropout P, each its own kind (ours: a head's output per token; nanoGPT: "
        "attention weights, residual and embeddings): not the same mathematics, the steps each user would run",
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    nanogpt = load_nanogpt(args.nanogpt)
    cfg, batch = CONFIGS[args.config]
    cfg = replace(cfg, dropout=args.dropout)
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(0, cfg.vocab_size, (batch, cfg.block_size), generator=gen)
    y = torch.randint(0, cfg.vocab_size, (batch, cfg.block_size), generator=gen)
    tokens = batch * cfg.block_size
    flops = tokens * model_flops_per_token(cfg, attention="full")
    print(
        f"{args.config}: {cfg.n_layer} layers, {cfg.n_head} heads, width {cfg.n_embd}, context "
        f"{cfg.block_size}, batch {batch}, vocabulary {cfg.vocab_size}; torch {torch.__version__}, "
        f"{threads} threads" + (f"; dropout {args.dropout}, each side its own kind" if args.dropout else "")
    )
    print(f"{'round':>5} {'FMA peak':>9} {'nanoGPT tok/s':>13} {'ours tok/s':>11} {'ratio':>6}")
    rows = []
    for r in range(args.rounds):  # a fresh pair of models each round, built and timed in turn
        peak = fma_peak(30_000_000, threads)
        t_theirs, t_ours = paired_seconds(theirs(nanogpt, cfg), ours(cfg), x, y, args.steps, args.warmup)
        rows.append((peak, t_theirs, t_ours))
        shown = f"{peak:9.0f}" if peak else "      n/a"
        print(f"{r + 1:5} {shown} {tokens / t_theirs:13.0f} {tokens / t_ours:11.0f} {t_theirs / t_ours:6.2f}")
    ratios = [t / o for _, t, o in rows]
    print(
        f"ratio ours / nanoGPT (tokens/s): median {statistics.median(ratios):.2f}, "
        f"min {min(ratios):.2f}, max {max(ratios):.2f}"
    )
    peaks = [p for p, _, _ in rows if p]
    peak = max(peaks) if peaks else None
    for name, column in (("nanoGPT", 1), ("ours", 2)):
        best = min(row[column] for row in rows)
        gflops = flops / best / 1e9
        of_peak = f" = {gflops / peak:.0%} of the FMA peak ({peak:.0f} on {threads} cores)" if peak else ""
        print(f"{name:8} best {tokens / best:8.0f} tokens/s, {gflops:5.1f} GFLOP/s{of_peak}")


if __name__ == "__main__":
    main()
