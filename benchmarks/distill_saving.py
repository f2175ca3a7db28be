"""What distillation saves, measured: the race (core.distill) at the default settings for seeds 0-2 and step
budgets 300 / 600 / 1,500, each ratio of the verdict per run.

    PYTHONPATH=. python3 benchmarks/distill_saving.py [--seeds 0,1,2] [--budgets 600,1500,300] [--out FILE]

Budget-major, the goal budgets (600, 1,500) first, so a run cut short still answers them. Steps and FLOPs
ratios do not depend on the machine's speed; the step-time ratio does, and on whatever else it is doing."""

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
from core.distill.config import DistillConfig  # noqa: E402
from core.distill.distiller import Distiller  # noqa: E402
from core.events import Done, Failed  # noqa: E402

KEYS = (
    "steps_ratio",
    "coref_steps_ratio",
    "coref_ratio_is_bound",
    "flops_ratio",
    "flops_ratio_cached",
    "step_time_ratio",
    "val_loss",
    "scratch_val_loss",
    "coref_acc",
    "scratch_coref_acc",
)


def race(seed: int, steps: int, out_dir: str) -> dict:
    preset = PRESETS["default"]
    tc = replace(preset.train, steps=steps, seconds=0.0, seed=seed, threads=1)
    distiller = Distiller(
        str(resources.bundled_model("teacher")), preset.model, tc, DistillConfig(cache_teacher=True), out_dir
    )
    for event in distiller.run():
        if isinstance(event, Failed):
            raise SystemExit(f"seed {seed}, {steps} steps: {event.message}")
        if isinstance(event, Done):
            return event.metrics
    raise SystemExit("the race ended without a result")


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
    args = parser.parse_args()
    rows = []
    print("| seed | steps | " + " | ".join(KEYS) + " | wall s |")
    print("|" + "---|" * (len(KEYS) + 3))
    for steps in map(int, args.budgets.split(",")):
        for seed in map(int, args.seeds.split(",")):
            t0 = time.time()
            with tempfile.TemporaryDirectory() as tmp:
                m = race(seed, steps, tmp)
            row = {"seed": seed, "budget": steps, **{k: m.get(k) for k in KEYS}, "wall_s": time.time() - t0}
            row.update(
                {k: m.get(k) for k in ("steps_to_match", "coref_steps_distilled", "coref_steps_scratch")}
            )
            rows.append(row)
            print(
                f"| {seed} | {steps} | " + " | ".join(fmt(row[k]) for k in KEYS) + f" | {row['wall_s']:.0f} |"
            )
            sys.stdout.flush()
            if args.out:
                with open(args.out, "a", encoding="utf-8") as f:
                    f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
