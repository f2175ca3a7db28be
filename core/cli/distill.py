"""CLI subcommand `distill`: the distillation race (core.distill) from a terminal or under torchrun."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace

from core import resources
from core.config import PRESETS

DEFAULT_STEPS = 600
CURVE_KEYS = ("val_loss", "coref_acc")
FINAL_KEYS = ("val_loss", "coref_acc", "attn_coref_mean", "neighbor_purity", "cloze_top5_good")


def add_parsers(sub) -> None:
    p = sub.add_parser("distill", help="distil a teacher into a small student, raced against the student alone")
    p.add_argument(
        "--teacher", metavar="CKPT", help="teacher checkpoint or run folder (default: bundled teacher)"
    )
    p.add_argument("--student-preset", choices=sorted(PRESETS), default="default")
    p.add_argument("--steps", type=_positive_int, default=DEFAULT_STEPS)
    p.add_argument("--temperature", type=float, default=1.0, help="T > 0 (default 1)")
    p.add_argument("--alpha", type=float, default=0.9, help="weight of the soft labels, 0..1 (default 0.9)")
    p.add_argument("--hidden-weight", type=float, default=0.0, help="w_h >= 0: hidden-state transfer")
    p.add_argument("--attn-weight", type=float, default=0.0, help="w_a >= 0: attention transfer")
    p.add_argument(
        "--cache-teacher", action="store_true", help="make the teacher's top-k outputs once, then train"
    )
    p.add_argument("--top-k", type=_positive_int, default=16, help="tokens a cached teacher keeps per position")
    p.add_argument("--compare-scratch", action="store_true", help="race the same student learning alone")
    p.add_argument("--seed", type=int, default=0, help="the students' initial weights and batch order")
    p.add_argument("--out", help="run folder (metrics.jsonl + both checkpoints); default runs/distill-<time>")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.set_defaults(func=run_distill, human=_human)


def run_distill(args: argparse.Namespace) -> dict | None:
    from core.cli import RunFailed
    from core.distill.config import DistillConfig
    from core.distill.distiller import Distiller
    from core.events import Done, Eval, Failed, Step

    # Every setting is bounded before the teacher is even read: bad input costs nothing.
    dc = DistillConfig(
        temperature=args.temperature,
        alpha=args.alpha,
        hidden_weight=args.hidden_weight,
        attn_weight=args.attn_weight,
        cache_teacher=args.cache_teacher,
        top_k=args.top_k,
        compare_scratch=args.compare_scratch,
    ).validate()
    preset = PRESETS[args.student_preset]
    tc = replace(preset.train, steps=args.steps, seconds=0.0, seed=args.seed, threads=args.threads).validate()
    teacher = args.teacher or str(resources.bundled_model("teacher"))
    distiller = Distiller(teacher, preset.model, tc, dc, args.out, args.student_preset)
    distiller.check()  # a teacher that does not load or cannot teach this student is bad input (exit 2)
    curves: dict[str, list] = {"distilled": [], "scratch": []}
    last_print = time.monotonic()
    for event in distiller.run():
        if isinstance(event, Failed):
            raise RunFailed(event.message)
        if isinstance(event, Eval):
            for name, prefix in (("distilled", ""), ("scratch", "scratch_")):
                if f"{prefix}val_loss" in event.metrics:
                    point = {"step": event.step, **{k: event.metrics.get(prefix + k) for k in CURVE_KEYS}}
                    curves[name].append(point)
        if isinstance(event, Step) and not args.json and time.monotonic() - last_print > 2:
            print(f"step {event.step:6d}  loss {event.loss:.3f}", file=sys.stderr)
            last_print = time.monotonic()
        if isinstance(event, Done):
            return _result(event, curves, distiller)
    if distiller.dist.rank != 0:
        return None  # under torchrun only rank 0 reports
    raise RunFailed("the run ended without a result")


def _result(done, curves: dict, distiller) -> dict:
    m = done.metrics
    finals = {
        "distilled": {k: m.get(k) for k in FINAL_KEYS},
        "teacher": {k: m.get(f"teacher_{k}") for k in FINAL_KEYS},
        "untrained": {k: m.get(f"baseline_{k}") for k in FINAL_KEYS},
    }
    if curves["scratch"]:
        finals["scratch"] = {k: m.get(f"scratch_{k}") for k in FINAL_KEYS}
    else:
        curves.pop("scratch")
    result = {
        "curves": curves,
        "finals": finals,
        "steps": m.get("steps"),
        "steps_to_match": m.get("steps_to_match"),
        "steps_ratio": m.get("steps_ratio"),
        "coref_steps_ratio": m.get("coref_steps_ratio"),
        "flops_ratio": m.get("flops_ratio"),
        "flops_ratio_cached": m.get("flops_ratio_cached"),
    }
    result.update({k: v for k, v in m.items() if k not in result})
    result["checkpoint"] = done.checkpoint_path
    result["scratch_checkpoint"] = str(distiller.checkpoint_path("scratch")) if "scratch" in curves else None
    result["run_dir"] = str(distiller.out_dir)
    result["reason"] = done.reason
    return result


def _human(r: dict) -> str:
    def num(v, spec=".2f"):
        return "n/a" if v is None else format(v, spec)

    lines = [
        f"{r['steps']} steps; validation loss: distilled {num(r['finals']['distilled']['val_loss'], '.3f')}, "
        f"teacher {num(r['finals']['teacher']['val_loss'], '.3f')}"
    ]
    if "scratch" in r["finals"]:
        lines += [
            f"alone {num(r['finals']['scratch']['val_loss'], '.3f')}",
            f"steps to reach the lone student's final loss: {num(r['steps_to_match'], 'd')} "
            f"(ratio {num(r['steps_ratio'])}); coref >= 0.95: ratio {num(r['coref_steps_ratio'])}",
            f"FLOPs ratio, live teacher {num(r['flops_ratio'])}, cached teacher {num(r['flops_ratio_cached'])}",
        ]
    lines.append(f"run folder: {r['run_dir']}")
    return "\n".join(lines)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value
