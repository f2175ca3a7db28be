"""Training throughput: tokens/s and achieved GFLOP/s of the `default` preset (with and without its attention
dropout) and a reference config, SDPA path vs explicit-attention path, measured alternately in one run, next
to two peaks measured in the same run: a large fp32 matmul (the best a BLAS library does here) and a
hand-written FMA loop (what the CPU's arithmetic units can do at all; needs a C compiler and AVX2). These
machines' speed swings minute to minute: compare ratios.

    python3 benchmarks/train_throughput.py [--rounds 3] [--steps 15]"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.config import PRESETS, ModelConfig, TrainConfig  # noqa: E402
from core.cost.flops import model_flops_per_token  # noqa: E402
from core.model.gpt import GPT  # noqa: E402
from core.training.batches import compute_loss  # noqa: E402
from core.training.optim import adamw  # noqa: E402

_DEFAULT = replace(PRESETS["default"].model, vocab_size=140)
CONFIGS = {
    "default": (_DEFAULT, PRESETS["default"].train.batch_size),
    "no-dropout": (replace(_DEFAULT, dropout=0.0), PRESETS["default"].train.batch_size),  # what dropout costs
    "reference": (ModelConfig(vocab_size=2000, n_layer=4, n_head=4, n_embd=128, block_size=64), 32),
}


def matmul_peak(n: int = 2048, repeats: int = 5) -> float:
    """Best fp32 GFLOP/s of an n×n matmul: what this CPU does on the friendliest possible work."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = 0.0
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        best = max(best, 2 * n**3 / (time.perf_counter() - t) / 1e9)
    return best


def fma_peak(iterations: int = 100_000_000, threads: int | None = None) -> float | None:
    """fp32 GFLOP/s of fma_peak.c on `threads` cores (default: every core), the better of its AVX2 and its
    -march=native (AVX-512 where the CPU has it) builds, or None where neither builds or runs."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        return None
    source = Path(__file__).with_name("fma_peak.c")
    count = str(threads or os.cpu_count() or 1)
    best = None
    with tempfile.TemporaryDirectory() as tmp:
        for flags in (["-mavx2", "-mfma"], ["-march=native"]):
            binary = os.path.join(tmp, "fma_peak")
            try:
                subprocess.run([compiler, "-O2", *flags, "-pthread", str(source), "-o", binary], check=True)
                out = subprocess.run([binary, count, str(iterations)], capture_output=True, text=True)
                best = max(best or 0.0, float(out.stdout))
            except (OSError, subprocess.CalledProcessError, ValueError):
                continue
    return best


def measure(cfg: ModelConfig, batch: int, sdpa: bool, steps: int) -> float:
    """Seconds per training step (median), the trainer's own loss, optimizer and clipping included."""
    torch.manual_seed(0)
    model = GPT(cfg)
    model.set_fast_attention(sdpa)
    optimizer = adamw(model, TrainConfig())
    x = torch.randint(0, cfg.vocab_size, (batch, cfg.block_size))
    y = torch.randint(0, cfg.vocab_size, (batch, cfg.block_size))
    times = []
    for i in range(steps + 3):
        t = time.perf_counter()
        loss = compute_loss(model, x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if i >= 3:  # warm-up steps excluded
            times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=15)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    rows: dict[tuple[str, str], list[float]] = {}
    peaks, fma_peaks = [], []
    for _ in range(args.rounds):  # alternate everything, so a slow minute hits every variant alike
        peaks.append(matmul_peak())
        fma_peaks.append(fma_peak())
        for name, (cfg, batch) in CONFIGS.items():
            for path in ("sdpa", "explicit"):
                rows.setdefault((name, path), []).append(measure(cfg, batch, path == "sdpa", args.steps))
    peak = max(peaks)
    fma = max((p for p in fma_peaks if p is not None), default=None)
    print(f"fp32 matmul peak (2048², best of run): {peak:.0f} GFLOP/s")
    print(
        f"fp32 FMA peak, {os.cpu_count()} cores (fma_peak.c, best of run): "
        + (f"{fma:.0f} GFLOP/s" if fma else "n/a")
    )
    print(
        f"{'config':10} {'path':9} {'ms/step':>8} {'tokens/s':>9} {'GFLOP/s':>8} {'of matmul':>9} {'of FMA':>7}"
    )
    for (name, path), times in rows.items():
        cfg, batch = CONFIGS[name]
        dt = min(times)
        tokens = batch * cfg.block_size
        gflops = tokens * model_flops_per_token(cfg, attention="full") / dt / 1e9
        of_fma = f"{gflops / fma:7.1%}" if fma else "    n/a"
        row = f"{name:10} {path:9} {dt * 1000:8.1f} {tokens / dt:9.0f} {gflops:8.1f}"
        print(f"{row} {gflops / peak:9.1%} {of_fma}")


if __name__ == "__main__":
    main()
