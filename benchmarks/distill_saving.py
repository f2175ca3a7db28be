"""What distillation saves, measured: the race (core.distill) at the default settings for seeds 0-2 and step
budgets 300 / 600 / 1,500, each ratio of the verdict per run.

    PYTHONPATH=. python3 benchmarks/distill_saving.py [--seeds 0,1,2] [--budgets 600,1500,300] [--out FILE]
        [--seed-major] [--live] [--alone-off] [--eval-every K] [--temperature T] [--alpha A]

Budget-major, the goal budgets (600, 1,500) first, so a run cut short still answers them; --seed-major runs
each seed's budgets together, largest first, so the teacher's cached outputs are made once per seed and reused
(a batch is a function of seed and step only). Steps and FLOPs ratios do not depend on the machine's speed; the
step-time ratio does, and on whatever else it is doing.

Every "steps to reach" figure is quantised by the race's evaluation interval (about 30 evaluations a race:
10 / 20 / 50 steps at 300 / 600 / 1,500). The benchmark evaluates every 10 steps (--eval-every): a finer
measurement of the same race (evaluating changes no weight and draws no batch), for about 0.5 s an evaluation;
the verdict at the race's own interval is printed beside it, from the evaluations at its multiples. --live
uses the teacher on the fly instead of the cache, and --alone-off skips the lone student (it does not depend on
the teacher, so a live-vs-cached comparison needs it only once). --out also keeps each run's full final
metrics and both students' curves."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import resources  # noqa: E402
from core.config import PRESETS  # noqa: E402
from core.distill import distiller as distiller_module  # noqa: E402
from core.distill.config import DistillConfig  # noqa: E402
from core.distill.distiller import Distiller  # noqa: E402
from core.distill.verdict import race_verdict  # noqa: E402
from core.events import Done, Failed  # noqa: E402

KEYS = (
    "steps_ratio",
    "coref_steps_ratio",
    "coref_ratio_is_bound",
    "flops_ratio",
    "flops_ratio_cached",
    "break_even_students",
    "step_time_ratio",
    "val_loss",
    "scratch_val_loss",
    "coref_acc",
    "scratch_coref_acc",
)
# The probe scores of each student, the teacher and the untrained start (the same weights for both students).
PROBES = ("val_loss", "coref_acc", "coref_pairwise", "attn_coref_mean", "neighbor_purity", "cloze_top5_good")
WHO = {"distilled": "", "alone": "scratch_", "teacher": "teacher_", "untrained": "baseline_"}


def race(seed: int, steps: int, out_dir: str, dc: DistillConfig) -> tuple[dict, Distiller]:
    preset = PRESETS["default"]
    tc = replace(preset.train, steps=steps, seconds=0.0, seed=seed, threads=1)
    distiller = Distiller(str(resources.bundled_model("teacher")), preset.model, tc, dc, out_dir)
    for event in distiller.run():
        if isinstance(event, Failed):
            raise SystemExit(f"seed {seed}, {steps} steps: {event.message}")
        if isinstance(event, Done):
            return event.metrics, distiller
    raise SystemExit("the race ended without a result")


def coarse_verdict(m: dict, curves: dict, every: int) -> dict:
    """The verdict the race itself gives (it evaluates every `every` steps), from a finer run's curves: the
    evaluations at multiples of `every`, and the final one, are the same numbers either way."""
    steps = m["steps"]
    keep = {name: [e for e in c if e[0] % every == 0 or e[0] == steps] for name, c in curves.items()}
    return race_verdict(
        keep["distilled"],
        keep["scratch"],
        steps,
        m["tokens"] // steps,
        m["student_flops_per_token"],
        m["teacher_forward_flops_per_token"],
        m["teacher_training_flops"],
    )


def coarse_text(v: dict) -> str:
    keys = ("steps_to_match", "steps_ratio", "coref_steps_distilled", "coref_steps_scratch")
    keys += ("coref_steps_ratio",)
    return " ".join(f"{k}={fmt(v.get(k))}" for k in keys)


def fmt(v) -> str:
    if v is None:
        return "never"
    if isinstance(v, bool):
        return "yes" if v else "no"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def main() -> None:
    import tempfile

    import torch

    torch.set_num_threads(1)
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--budgets", default="600,1500,300")
    parser.add_argument("--out", default="", help="also append each run as one JSON line here")
    parser.add_argument("--seed-major", action="store_true", help="each seed's budgets together, largest first")
    parser.add_argument("--live", action="store_true", help="the teacher on the fly, not cached")
    parser.add_argument("--alone-off", action="store_true", help="no lone student (only the distilled curve)")
    parser.add_argument(
        "--eval-every", type=int, default=10, help="evaluate every K steps (0: the race's own interval)"
    )
    parser.add_argument("--temperature", type=float, default=DistillConfig.temperature)
    parser.add_argument("--alpha", type=float, default=DistillConfig.alpha)
    args = parser.parse_args()
    race_interval = distiller_module.eval_interval
    if args.eval_every:
        distiller_module.eval_interval = lambda steps: args.eval_every
    dc = DistillConfig(
        temperature=args.temperature,
        alpha=args.alpha,
        cache_teacher=not args.live,
        compare_scratch=not args.alone_off,
    )
    seeds, budgets = [int(s) for s in args.seeds.split(",")], [int(b) for b in args.budgets.split(",")]
    if args.seed_major:
        runs = [(seed, b) for seed in seeds for b in sorted(budgets, reverse=True)]
    else:
        runs = [(seed, b) for b in budgets for seed in seeds]
    print(f"# {dc}, eval every {args.eval_every or 'race default'}")
    print("| seed | steps | " + " | ".join(KEYS) + " | wall s |")
    print("|" + "---|" * (len(KEYS) + 3))
    for seed, steps in runs:
        t0 = time.time()
        with tempfile.TemporaryDirectory() as tmp:
            m, distiller = race(seed, steps, tmp, dc)
        row = {"seed": seed, "budget": steps, **{k: m.get(k) for k in KEYS}, "wall_s": time.time() - t0}
        row.update({k: m.get(k) for k in ("steps_to_match", "coref_steps_distilled", "coref_steps_scratch")})
        cells = " | ".join(fmt(row.get(k)) for k in KEYS)
        print(f"| {seed} | {steps} | {cells} | {row['wall_s']:.0f} |")
        print(
            "    probes "
            + "; ".join(
                f"{who}: " + " ".join(f"{p}={fmt(m.get(prefix + p))}" for p in PROBES)
                for who, prefix in WHO.items()
            )
        )
        curves = {name: s.evals for name, s in distiller.students.items()}  # (step, val_loss, coref_acc)
        every = race_interval(steps)
        finer = args.eval_every and every % args.eval_every == 0 and every != args.eval_every
        if "scratch" in curves and finer:
            coarse = coarse_verdict(m, curves, every)
            row["at_race_interval"] = coarse
            print(f"    at the race's own interval ({every} steps): " + coarse_text(coarse))
        sys.stdout.flush()
        if args.out:
            row["eval_every"] = distiller_module.eval_interval(steps)
            row["settings"] = {"temperature": dc.temperature, "alpha": dc.alpha, "cache": dc.cache_teacher}
            row["metrics"] = m
            row["curves"] = curves
            with open(args.out, "a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
