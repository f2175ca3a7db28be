"""Training compute, GPU-fleet time, cost, energy and memory — pure functions over sourced data.

Conventions (see resources/data/*.json and the reference they were copied from):
FLOPs count a multiply-add as 2; peaks are dense (no 2:4 sparsity); MFU = model FLOPs needed ÷
(GPUs × peak × time) as in PaLM; training ≈ 6·N·D with N the parameters each token passes through
(activated ones for a mixture of experts)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from core import resources
from core.config import ModelConfig
from core.units import SECONDS_PER_DAY, SECONDS_PER_YEAR

PRECISIONS = ("bf16", "fp8", "tf32", "fp32")

PF_DAY = 1e15 * SECONDS_PER_DAY  # 1 petaflop/s-day = 8.64e19 FLOPs (GPT-3 Table D.1's unit)
ADAM_MIXED_BYTES_PER_PARAM = 16.0  # bf16 weights 2 + grads 2 + fp32 master/momentum/variance 12 [TM101]
ACT_BYTES_PER_TOKEN_WIDTH_LAYER = 34.0  # s·b·h·L·(10 + 24/t), t = 1, selective recomputation [KORTH]
DEFAULT_SEQ_LEN = 2048


# ---------------------------------------------------------------- the model's own FLOPs (Kaplan Table 1)


def n_params_non_embedding(cfg: ModelConfig) -> int:
    """Kaplan's N = 2·d_model·n_layer·(2·d_attn + d_ff) with d_attn = d_model, d_ff = 4·d_model (= 12·L·d²);
    biases and layer norms are left out, as in the paper."""
    d = cfg.n_embd
    return 2 * d * cfg.n_layer * (2 * d + 4 * d)


def model_flops_per_token(cfg: ModelConfig, n_ctx: int | None = None, attention: str | None = None) -> float:
    """Training FLOPs per token: 3 × forward, forward = 2·(N + d·V) + attention over the context.

    N here also counts the de-embedding (LM head, d_model·vocab): Kaplan drops it because it vanishes in big
    models, but at our sizes it is a sizeable share of the real work, and the trainer reports real work.
    attention="causal" (Kaplan's 2·L·n_ctx·d forward: each token sees half the context on average) is the
    default for GPT-style models; "full" (PaLM / nanoGPT's 12·L·T·d for training) is what a dense attention
    kernel actually multiplies, and what a bidirectional (masked) model needs."""
    n_ctx = cfg.block_size if n_ctx is None else n_ctx
    if attention is None:
        attention = "causal" if cfg.objective == "causal" else "full"
    if attention not in ("causal", "full"):
        raise ValueError(f"attention must be 'causal' or 'full', not {attention!r}")
    n = n_params_non_embedding(cfg) + cfg.n_embd * cfg.vocab_size
    attn_fwd = 2 * cfg.n_layer * n_ctx * cfg.n_embd * (1 if attention == "causal" else 2)
    return 3.0 * (2.0 * n + attn_fwd)


def training_flops(n_params: float, n_tokens: float) -> float:
    """C ≈ 6·N·D: 2 FLOPs per parameter per token forward, twice that backward [KAPLAN §2.1, GPT3 App. D]."""
    return 6.0 * float(n_params) * float(n_tokens)


def inference_flops_per_token(n_params: float) -> float:
    """≈ 2·N per generated token (attention over the context left out) [KAPLAN Table 1]."""
    return 2.0 * float(n_params)


# ---------------------------------------------------------------- GPUs and fleets


@dataclass(frozen=True)
class Gpu:
    id: str  # short key used in the CLI and object names ("A100", "H800", ...)
    name: str
    year: int
    peaks_tflops: dict[str, float | None]  # dense peak per precision; None where unsupported
    memory_gb: float
    tdp_w: float
    interconnect_gbs: float | None
    price_usd_per_hour: float | None  # a dated reference price; the user may override it
    price_source: str | None
    source: str
    verified: str  # primary / secondary / unverified

    def peak_flops(self, precision: str = "bf16") -> float:
        """FLOP/s at `precision`; an unsupported precision falls back to the next one the chip has
        (FP8 → BF16 → FP16 tensor, TF32 → FP32), because that is what the job would run at."""
        return resolve_precision(self, precision)[1]


def resolve_precision(gpu: Gpu, precision: str) -> tuple[str, float]:
    """(precision actually used, FLOP/s)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    chain = {
        "fp8": ("fp8", "bf16", "fp16"),
        "bf16": ("bf16", "fp16"),
        "tf32": ("tf32", "fp32"),
        "fp32": ("fp32",),
    }
    for p in chain[precision]:
        tf = gpu.peaks_tflops.get(p)
        if tf:
            return p, tf * 1e12
    return "fp32", (gpu.peaks_tflops.get("fp32") or 0.0) * 1e12


@lru_cache(maxsize=1)
def load_gpus() -> dict[str, Gpu]:
    """GPUs in the order the data file lists them (the panel shows them in that order)."""
    raw = resources.read_json("gpus.json")["gpus"]
    out = {}
    for g in raw:
        peaks = {
            "bf16": g["bf16_tflops"],
            "fp16": g["fp16_tensor_tflops"],
            "fp8": g["fp8_tflops"],
            "tf32": g["tf32_tflops"],
            "fp32": g["fp32_tflops"],
        }
        out[g["id"]] = Gpu(
            g["id"],
            g["name"],
            g["year"],
            peaks,
            g["memory_gb"],
            g["tdp_w"],
            g["interconnect_gbs"],
            g["price_usd_per_hour"],
            g["price_source"],
            g["source"],
            g["verified"],
        )
    return out


def gpu(gpu_id: str) -> Gpu:
    gpus = load_gpus()
    key = {k.lower(): k for k in gpus}.get(gpu_id.lower().replace("-", ""))
    if key is None:
        raise ValueError(f"unknown GPU {gpu_id!r}; known: {', '.join(gpus)}")
    return gpus[key]


@dataclass(frozen=True)
class FleetEntry:
    gpu: Gpu
    count: int
    price_usd_per_hour: float | None  # None: no known price


def make_fleet(
    counts: dict[str, int], prices: dict[str, float] | None = None, price_all: float | None = None
) -> tuple[FleetEntry, ...]:
    """Fleet from {gpu id: count}; price: per-type override, else one price for all, else the data's price."""
    prices = prices or {}
    fleet = []
    for gid, n in counts.items():
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ValueError(f"GPU count for {gid} must be a whole number ≥ 0, not {n!r}")
        g = gpu(gid)
        price = prices.get(g.id, price_all if price_all is not None else g.price_usd_per_hour)
        if price is not None and (not math.isfinite(price) or price < 0):
            raise ValueError(f"price for {g.id} must be ≥ 0, not {price!r}")
        fleet.append(FleetEntry(g, n, price))
    return tuple(fleet)


def a100_seconds(flops: float, mfu: float = 0.4) -> float:
    """How long one A100 needs for `flops` at its dense bf16 peak and the given utilisation (a learner's
    yardstick for their own run)."""
    return flops / (gpu("A100").peak_flops("bf16") * mfu)


def fleet_peak_flops(fleet: tuple[FleetEntry, ...], precision: str = "bf16") -> float:
    """Σ nᵢ·peakᵢ — throughputs add. An upper bound: a synchronous job runs at its slowest member's pace."""
    return sum(e.count * e.gpu.peak_flops(precision) for e in fleet)


# ---------------------------------------------------------------- the estimate


@dataclass(frozen=True)
class Estimate:
    n_params: float  # parameters each token passes through (FLOPs basis)
    n_params_total: float  # parameters stored (memory basis)
    n_tokens: float
    flops: float
    pf_days: float
    precision: str
    mfu: float
    pue: float
    n_gpus: int
    peak_flops: float  # fleet, FLOP/s
    achieved_flops: float  # fleet, FLOP/s at this MFU
    seconds: float | None  # None when the fleet is empty (see hint)
    days: float | None
    years: float | None
    gpu_hours: float | None
    gpu_hours_by_type: dict[str, float]
    cost_usd: float | None  # priced GPUs only; see unpriced
    unpriced: tuple[str, ...]  # GPU types in the fleet without a price
    energy_kwh: float | None  # board power × hours × PUE
    memory_total_gb: float  # training state (16 B/param) + one sequence of activations
    memory_per_gpu_gb: float | None
    gpu_memory_gb: float | None  # the smallest card in the fleet
    fits: bool | None
    min_gpus: int  # at least this many cards of the fleet's smallest memory (or an 80 GB card)
    sharded: bool
    hint: str  # "" or why a figure is missing: "no_gpus", "too_large"

    def as_dict(self) -> dict:
        """JSON-able, with the keys the README promises `cost --json` prints."""
        from dataclasses import asdict

        d = asdict(self)
        d["unpriced"] = list(self.unpriced)
        return d


def activation_bytes(
    n_params: float, seq_len: int | None = None, n_layer: int | None = None, d_model: int | None = None
) -> float:
    """Activations of one sequence (micro-batch 1, fp16, selective recomputation, no tensor parallel):
    34·s·h·L bytes [KORTH via TM101]. A shape not given is guessed from N ≈ 12·L·h² with h = 128·L (GPT-3's
    aspect ratio) — rough, and it only matters next to the 16 B/param of the optimizer state."""
    s = seq_len or DEFAULT_SEQ_LEN
    n = max(float(n_params), 1.0)
    if d_model and n_layer:
        width, layers = float(d_model), float(n_layer)
    elif d_model:
        width = float(d_model)
        layers = max(1.0, n / (12.0 * width * width))
    elif n_layer:
        layers = float(n_layer)
        width = math.sqrt(n / (12.0 * layers))
    else:
        width = (128.0 * n / 12.0) ** (1.0 / 3.0)
        layers = max(1.0, width / 128.0)
    return ACT_BYTES_PER_TOKEN_WIDTH_LAYER * s * width * layers


def estimate(
    n_params: float,
    n_tokens: float,
    fleet: tuple[FleetEntry, ...],
    mfu: float = 0.4,
    precision: str = "bf16",
    pue: float = 1.2,
    *,
    flops: float | None = None,
    n_params_total: float | None = None,
    sharded: bool = True,
    seq_len: int | None = None,
    n_layer: int | None = None,
    d_model: int | None = None,
) -> Estimate:
    """Everything the calculator shows, from one call. `flops` overrides 6·N·D (e.g. a reported figure).
    `sharded`: training state and activations split evenly over the fleet (ZeRO-3 / model parallel);
    otherwise every GPU holds a full copy (plain data parallel)."""
    _check("parameters", n_params)
    _check("tokens", n_tokens)
    if not (0 < mfu <= 1):
        raise ValueError(f"MFU must be in (0, 1], not {mfu!r}")
    if not (1 <= pue <= 5):
        raise ValueError(f"PUE must be between 1 and 5, not {pue!r}")
    resolve_precision(load_gpus()["A100"], precision)  # validates the name
    total_params = float(n_params_total if n_params_total is not None else n_params)
    c = float(flops) if flops is not None else training_flops(n_params, n_tokens)
    n_gpus = sum(e.count for e in fleet)
    peak = fleet_peak_flops(fleet, precision)
    achieved = peak * mfu
    mem_total = (
        ADAM_MIXED_BYTES_PER_PARAM * total_params + activation_bytes(total_params, seq_len, n_layer, d_model)
    ) / 1e9
    live = [e for e in fleet if e.count > 0]
    card_gb = min((e.gpu.memory_gb for e in live), default=None)
    min_gpus = _ceil(mem_total / (card_gb or 80.0))
    hint = ""
    seconds = days = years = gpu_hours = cost = energy = mem_per_gpu = None
    by_type: dict[str, float] = {}
    unpriced: tuple[str, ...] = ()
    fits = None
    if n_gpus == 0 or achieved <= 0:
        hint = "no_gpus"
    else:
        seconds = c / achieved
        if not math.isfinite(seconds) or not math.isfinite(c):
            hint, seconds = "too_large", None
    if seconds is not None:
        days, years = seconds / SECONDS_PER_DAY, seconds / SECONDS_PER_YEAR
        by_type = {e.gpu.id: e.count * seconds / 3600.0 for e in live}
        gpu_hours = sum(by_type.values())
        cost = sum(by_type[e.gpu.id] * e.price_usd_per_hour for e in live if e.price_usd_per_hour is not None)
        unpriced = tuple(e.gpu.id for e in live if e.price_usd_per_hour is None)
        energy = sum(by_type[e.gpu.id] * e.gpu.tdp_w / 1000.0 for e in live) * pue
    if n_gpus > 0:
        mem_per_gpu = mem_total / n_gpus if sharded else mem_total
        fits = mem_per_gpu <= card_gb
    return Estimate(
        float(n_params),
        total_params,
        float(n_tokens),
        c,
        c / PF_DAY,
        precision,
        mfu,
        pue,
        n_gpus,
        peak,
        achieved,
        seconds,
        days,
        years,
        gpu_hours,
        by_type,
        cost,
        unpriced,
        energy,
        mem_total,
        mem_per_gpu,
        card_gb,
        fits,
        min_gpus,
        sharded,
        hint,
    )


def implied_mfu(flops: float, fleet: tuple[FleetEntry, ...], seconds: float, precision: str = "bf16") -> float:
    """The MFU a reported run must have had: FLOPs ÷ (fleet peak × wall time)."""
    peak = fleet_peak_flops(fleet, precision)
    if peak <= 0 or seconds <= 0:
        raise ValueError("need GPUs and a positive time to infer an MFU")
    return flops / (peak * seconds)


def tokens_for_budget(
    n_params: float, fleet: tuple[FleetEntry, ...], days: float, mfu: float = 0.4, precision: str = "bf16"
) -> float:
    """Inverse mode: tokens this fleet can train an N-parameter model on in `days` (6·N per token)."""
    _check("parameters", n_params)
    _check("days", days)
    if n_params == 0:
        return 0.0
    return fleet_peak_flops(fleet, precision) * mfu * days * SECONDS_PER_DAY / (6.0 * n_params)


def gpus_for_days(flops: float, gpu_: Gpu, days: float, mfu: float = 1.0, precision: str = "bf16") -> float:
    """How many cards of one type finish `flops` in `days` (fractional: the caller rounds if it wants)."""
    return flops / (gpu_.peak_flops(precision) * mfu * days * SECONDS_PER_DAY)


def _check(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number ≥ 0, not {value!r}")


def _ceil(x: float) -> int:
    return int(math.ceil(x)) if math.isfinite(x) else 0


# ---------------------------------------------------------------- presets


@dataclass(frozen=True)
class ModelPreset:
    id: str
    name_zh: str
    name_en: str
    n_params: float  # FLOPs basis (activated parameters for a mixture of experts)
    n_params_total: float  # memory basis
    n_tokens: float
    reported_flops: float | None
    n_layer: int | None
    d_model: int | None
    seq_len: int | None
    gpu: str | None
    n_gpus: int | None
    reported_gpu_hours: float | None
    price_usd_per_hour: float | None
    status: str
    sources: tuple[str, ...]
    note_zh: str
    note_en: str

    @property
    def flops(self) -> float:
        return training_flops(self.n_params, self.n_tokens)


@lru_cache(maxsize=1)
def load_presets() -> dict[str, ModelPreset]:
    raw = resources.read_json("model_presets.json")["presets"]
    return {p["id"]: ModelPreset(**{**p, "sources": tuple(p["sources"])}) for p in raw}


def preset(preset_id: str) -> ModelPreset:
    presets = load_presets()
    key = preset_id.lower().replace("-", "_")
    if key not in presets:
        raise ValueError(f"unknown preset {preset_id!r}; known: {', '.join(presets)}")
    return presets[key]


# ---------------------------------------------------------------- figures for people


# ---------------------------------------------------------------- this machine


def measure_matmul_flops(seconds: float = 0.3, n: int = 512) -> float:
    """This CPU's practical fp32 peak: the best rate of repeated n×n matmuls (2·n³ FLOPs each) over
    ~`seconds`. A measured ceiling for MFU here, not a datasheet figure; run it off the GUI thread."""
    import time

    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)  # warm-up: first call allocates and picks a kernel
    best, end = 0.0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        for _ in range(4):
            torch.mm(a, b)
        best = max(best, 4 * 2.0 * n**3 / (time.perf_counter() - t0))
    return best
