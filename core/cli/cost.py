"""`cost` and `factcheck` subcommands. core/cli.py owns the parser, `--json` and exit codes: each `func`
returns a JSON-able dict, and bad input raises ValueError with a one-line message (→ stderr, exit 2)."""

from __future__ import annotations

import argparse
import math

from core import units
from core.cost import factcheck as FC
from core.cost import flops as F


def add_parsers(subparsers) -> None:
    cost = subparsers.add_parser("cost", help="training compute, time, cost, energy and memory on a GPU fleet")
    cost.add_argument("--preset", help=f"published run: {', '.join(F.load_presets())}")
    cost.add_argument("--params", type=_number, help="parameters per token (e.g. 175e9); overrides the preset")
    cost.add_argument("--tokens", type=_number, help="training tokens (e.g. 300e9); overrides the preset")
    cost.add_argument(
        "--gpu",
        action="append",
        default=[],
        metavar="TYPE=COUNT",
        help=f"GPUs, repeatable: {', '.join(F.load_gpus())}; default: the preset's, else A100=1",
    )
    cost.add_argument("--mfu", type=_number, default=0.4, help="model FLOPs utilisation, (0, 1] (default 0.4)")
    cost.add_argument(
        "--price", type=_number, help="USD per GPU-hour for every type (default: per-type prices)"
    )
    cost.add_argument("--precision", default="bf16", help=f"{', '.join(F.PRECISIONS)} (default bf16)")
    cost.add_argument("--pue", type=_number, default=1.2, help="data-centre PUE for energy (default 1.2)")
    cost.add_argument(
        "--days", type=_number, help="also say how many tokens the fleet trains in this many days"
    )
    cost.add_argument(
        "--no-shard", action="store_true", help="every GPU keeps a full copy of the training state"
    )
    cost.set_defaults(func=run_cost, human=format_cost)

    fc = subparsers.add_parser("factcheck", help="the article's numbers next to recomputed figures and sources")
    fc.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of the human-readable text")
    fc.set_defaults(func=run_factcheck, human=format_factcheck)


MAX_GPUS = 100_000_000


def _number(text: str) -> float:
    """Any float spelling ("175e9", "1.75E11"); range checks happen in run_* so the error stays one line."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _fleet_counts(specs: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for spec in specs:
        name, sep, n = spec.partition("=")
        if not sep:
            raise ValueError(f"--gpu wants TYPE=COUNT, not {spec!r}")
        try:
            count = int(n)
        except ValueError:
            raise ValueError(f"GPU count must be a whole number, not {n!r}") from None
        if count < 0:
            raise ValueError(f"GPU count must be ≥ 0, not {count}")
        if count > MAX_GPUS:  # beyond any fleet, and a 400-digit count overflowed the float arithmetic
            shown = n.strip()[:20] + ("…" if len(n.strip()) > 20 else "")
            raise ValueError(f"GPU count must be at most {MAX_GPUS:,}, not {shown}")
        gid = F.gpu(name.strip()).id
        counts[gid] = counts.get(gid, 0) + count
    return counts


def run_cost(args) -> dict:
    p = F.preset(args.preset) if args.preset else None
    n_params = args.params if args.params is not None else (p.n_params if p else None)
    n_tokens = args.tokens if args.tokens is not None else (p.n_tokens if p else None)
    if n_params is None or n_tokens is None:
        raise ValueError("give --params and --tokens, or a --preset")
    for name, v in (
        ("--params", n_params),
        ("--tokens", n_tokens),
        ("--price", args.price),
        ("--days", args.days),
    ):
        if v is not None and (not math.isfinite(v) or v < 0):
            raise ValueError(f"{name} must be a finite number ≥ 0, not {v!r}")
    if args.gpu:
        counts = _fleet_counts(args.gpu)
    elif p and p.gpu and p.n_gpus:
        counts = {p.gpu: p.n_gpus}
    else:
        counts = {"A100": 1}
    if sum(counts.values()) == 0:
        raise ValueError("the fleet has no GPUs: give at least one, e.g. --gpu A100=1024")
    fleet = F.make_fleet(counts, price_all=args.price)
    same_model = p is not None and args.params is None
    e = F.estimate(
        n_params,
        n_tokens,
        fleet,
        args.mfu,
        args.precision,
        args.pue,
        n_params_total=p.n_params_total if same_model else None,
        sharded=not args.no_shard,
        seq_len=p.seq_len if same_model else None,
        n_layer=p.n_layer if same_model else None,
        d_model=p.d_model if same_model else None,
    )
    if not math.isfinite(e.flops):
        raise ValueError("--params × --tokens is too large: the FLOPs overflow a float (above ~1.8e308)")
    out = e.as_dict()
    out["fleet"] = {x.gpu.id: x.count for x in fleet}
    out["prices_usd_per_hour"] = {x.gpu.id: x.price_usd_per_hour for x in fleet}
    out["preset"] = p.id if p else None
    if args.days is not None:
        out["inverse_days"] = args.days
        out["inverse_tokens"] = F.tokens_for_budget(n_params, fleet, args.days, args.mfu, args.precision)
    return out


def run_factcheck(args) -> dict:
    claims = FC.check_claims()
    lang = getattr(args, "lang", "zh")
    rows = []
    for c in claims:
        row = c.as_dict()
        row["claimed_text"] = c.claimed_text(lang)
        row["computed_text"] = FC.format_value(c.computed, c.unit, lang)
        rows.append(row)
    return {"claims": rows, "verdicts": {c.id: c.verdict for c in claims}}


def format_cost(r: dict) -> str:
    """A few lines a person reads at a glance (English: the CLI is for scripts and logs)."""
    lines = [
        f"model      {units.format_sci(r['n_params'])} parameters × {units.format_sci(r['n_tokens'])} tokens"
        f" = {units.format_sci(r['flops'])} FLOPs ({units.format_sci(r['pf_days'])} PF/s-days)",
        f"fleet      {', '.join(f'{k}×{v}' for k, v in r['fleet'].items())}"
        f" at MFU {r['mfu']:.0%}, {r['precision']}",
        f"time       {units.format_duration(r['seconds'], 'en')}",
        f"GPU-hours  {units.format_sci(r['gpu_hours'])}",
        f"cost       {units.format_usd(r['cost_usd'])}"
        + (f" (no price for {', '.join(r['unpriced'])})" if r["unpriced"] else ""),
        f"energy     {units.format_energy(r['energy_kwh'])} (board power × PUE {r['pue']})",
        f"memory     {units.format_bytes_gb(r['memory_per_gpu_gb'])} per GPU, fits: {r['fits']};"
        f" at least {r['min_gpus']:,} GPUs",
    ]
    if "inverse_tokens" in r:
        lines.append(f"in {r['inverse_days']:g} days: {units.format_sci(r['inverse_tokens'])} tokens")
    return "\n".join(lines)


def format_factcheck(r: dict) -> str:
    lines = []
    for c in r["claims"]:
        src = "; ".join(s["key"] for s in c["sources"])
        lines.append(
            f"[{c['verdict'].upper():>13}] {c['claim_en']}\n"
            f"                claimed {c['claimed_text']}, computed {c['computed_text']}  [{src}]"
        )
    return "\n".join(lines)
