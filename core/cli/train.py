"""CLI subcommands `train` and `inspect` (the README lists their outputs)."""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

from core import resources
from core.cli.args import nonempty, positive_int, seconds, whole
from core.config import PRESETS

REPORTED = (
    "steps",
    "tokens",
    "tokens_per_s",
    "train_loss",
    "val_loss",
    "flops",
    "coref_acc",
    "attn_coref_mean",
    "attn_coref_mean_animal",
    "attn_coref_mean_seat",
    "attn_coref_best",
    "attn_coref_best_head",
    "neighbor_purity",
)


def add_parsers(sub) -> None:
    p = sub.add_parser("train", help="train a small Transformer and report what it learned")
    p.add_argument("--preset", choices=sorted(PRESETS), default="default")
    p.add_argument(
        "--corpus", type=nonempty, help="a UTF-8 text file to train on instead of the built-in world"
    )
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of the world corpus")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=positive_int, help="number of optimizer steps")
    budget.add_argument("--seconds", type=seconds, help="wall-clock budget in seconds")
    p.add_argument("--seed", type=whole, default=0)
    p.add_argument("--out", type=nonempty, help="run folder (metrics.jsonl + checkpoint); default runs/<time>")
    p.add_argument("--threads", type=whole, default=0, help="torch threads (0: per core; 1 if busy)")
    p.add_argument(
        "--resume",
        type=nonempty,
        metavar="DIR",
        help="continue the run saved in DIR (give --steps for the new total)",
    )
    p.add_argument("--checkpoint-every", type=positive_int, metavar="K", help="also save every K steps")
    p.add_argument(
        "--checkpoint-seconds",
        type=seconds,
        metavar="S",
        help="also save at least every S seconds of wall time (default 300; 0: off)",
    )
    p.add_argument(
        "--force", action="store_true", help="replace the run already in --out (its log and checkpoint)"
    )
    p.set_defaults(func=run_train, human=_train_human)

    p = sub.add_parser("inspect", help="attention of a model on one sentence")
    p.add_argument("sentence")
    p.add_argument(
        "--checkpoint", type=nonempty, help="checkpoint file or run folder (default: the bundled model)"
    )
    p.add_argument("--top", type=positive_int, default=10, help="how many next-token candidates to list")
    p.set_defaults(func=run_inspect, human=_inspect_human)


def run_train(args: argparse.Namespace) -> dict | None:
    from core.cli import RunFailed
    from core.data.files import file_corpus
    from core.events import Done, Failed, Preparing, Step
    from core.training.trainer import Trainer

    preset = PRESETS[args.preset]
    model_cfg, resume, corpus_path, out = preset.model, None, args.corpus, args.out
    train_cfg = replace(preset.train_for(args.lang), seed=args.seed, threads=args.threads)
    if args.resume:
        from core.model.checkpoint import load_checkpoint

        resume = load_checkpoint(args.resume, with_optimizer=True)
        if resume.recovered:
            print(
                f"note: the last save was interrupted ({resume.recovered}); resuming from the one before, "
                f"step {resume.meta.get('step', 0)}",
                file=sys.stderr,
            )
        model_cfg, train_cfg, out = resume.model_cfg, resume.train_cfg, out or _run_folder(args.resume)
        source = resume.meta.get("corpus", "world")
        corpus_path = corpus_path or (None if source == "world" else source)
    if args.checkpoint_every is not None:
        train_cfg = replace(train_cfg, checkpoint_every=args.checkpoint_every)
    if args.checkpoint_seconds is not None:
        train_cfg = replace(train_cfg, checkpoint_seconds=args.checkpoint_seconds)
    out = _claim_out(out, args)
    if args.steps is not None:
        train_cfg = replace(train_cfg, steps=args.steps)
    elif args.seconds is not None:
        train_cfg = replace(train_cfg, steps=0, seconds=args.seconds)
    # Read a user's file here, so a bad one is bad input (exit 2), not a failed run.
    corpus = file_corpus(corpus_path) if corpus_path else None
    trainer = Trainer(model_cfg, train_cfg, corpus_path, out, args.preset, corpus=corpus, resume=resume)
    last_print = time.monotonic()
    for event in trainer.run():
        if isinstance(event, Failed):
            if event.bad_input:
                raise ValueError(event.message)
            raise RunFailed(event.message)
        if (
            isinstance(event, Preparing)
            and not args.json
            and (event.done == 0 or time.monotonic() - last_print > 2)
        ):
            of = f" {event.done:,} of {event.total:,} characters" if event.total else ""
            print(f"preparing: {event.stage}{of}", file=sys.stderr)
            last_print = time.monotonic()
        if isinstance(event, Step) and not args.json and time.monotonic() - last_print > 2:
            print(
                f"step {event.step:6d}  loss {event.loss:.3f}  {event.tokens_per_s:,.0f} tok/s",
                file=sys.stderr,
            )
            last_print = time.monotonic()
        if isinstance(event, Done):
            result = {k: event.metrics.get(k) for k in REPORTED}
            result.update({k: v for k, v in event.metrics.items() if k not in result})
            result["checkpoint"] = event.checkpoint_path
            result["reason"] = event.reason
            return result
    if trainer.dist.rank != 0:
        return None  # under torchrun only rank 0 reports
    raise RunFailed("the run ended without a result")


def _train_human(r: dict) -> str:
    def score(key: str) -> str:  # probe scores are None for a user's own text: it has no probes
        return "n/a" if r.get(key) is None else f"{r[key]:.2f}"

    if r.get("train_loss") is None:  # stopped while preparing: no model, no figures
        return f"{r.get('reason', 'stopped')} before the first step; nothing was trained or saved"
    return (
        f"{r['steps']} steps, {r['tokens']:,} tokens in {r['elapsed_s']:.1f} s "
        f"({r['tokens_per_s']:,.0f} tokens/s)\n"
        f"loss: train {r['train_loss']:.3f}, validation {r['val_loss']:.3f} "
        f"(unigram entropy {r['unigram_entropy']:.3f})\n"
        f"coreference top-1: {score('coref_acc')}   attention (mean of heads): "
        f"{score('attn_coref_mean')} (animal sentences {score('attn_coref_mean_animal')}, "
        f"seat sentences {score('attn_coref_mean_seat')})   neighbour purity: {score('neighbor_purity')}\n"
        f"checkpoint: {r['checkpoint']}"
    )


def _run_folder(path: str) -> str:
    """The folder of a run, given the folder or one of its checkpoint files."""
    p = Path(path)
    return str(p if p.is_dir() else p.parent)


def _claim_out(out: str | None, args: argparse.Namespace) -> str | None:
    """Refuse to write over a run unless told to: --resume continues the run in its own folder, --force
    removes the old log and checkpoint first (so one curve never mixes two runs)."""
    if out is None:
        return None
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"--out {out}: exists and is not a folder")
    old = [folder / n for n in RUN_FILES if (folder / n).exists()]
    continuing = args.resume and Path(_run_folder(args.resume)).resolve() == folder.resolve()
    if old and not continuing:
        if not args.force:
            raise ValueError(
                f"--out {out} already holds a run ({old[0].name}): give --resume {out} to continue it, "
                "--force to replace it, or another folder"
            )
        for f in old:
            if f.is_dir():
                shutil.rmtree(f)
            else:
                f.unlink()
    return out


RUN_FILES = (
    "metrics.jsonl",
    "model.safetensors",
    "model.json",
    "model.optim.safetensors",
    "model.prev.safetensors",
    "model.prev.json",
    "model.prev.optim.safetensors",
    "embeddings",  # the time-lapse frames (core.embeddings.frames)
)


def load_model(checkpoint: str | None, kind: str = "default"):
    """The checkpoint a user named, or the bundled model of that kind."""
    from core.model.checkpoint import load_checkpoint

    if checkpoint:
        return load_checkpoint(checkpoint)
    bundled = resources.bundled_model(kind)
    if not bundled.exists():
        raise ValueError(
            f"no bundled model at {bundled}; train one with `python -m core train` and pass --checkpoint"
        )
    return load_checkpoint(bundled)


def run_inspect(args: argparse.Namespace) -> dict:
    from core.analysis import probes

    if not args.sentence.strip():
        raise ValueError("the sentence is empty")
    ckpt = load_model(args.checkpoint)
    tokens, attention, dropped = probes.attention_for(ckpt.model, ckpt.tokenizer, args.sentence)
    probs = probes.next_token_probs(ckpt.model, ckpt.tokenizer, args.sentence)
    top = probs.topk(min(max(1, args.top), probs.numel()))
    vocab = ckpt.tokenizer
    return {
        "tokens": tokens,
        "unknown": vocab.unknown_chars(args.sentence),
        "dropped_tokens": dropped,
        "attention": attention.round(4).tolist(),
        "rollout": probes.rollout(attention).round(4).tolist(),
        "top_next": [
            {"token": vocab.decode([i]), "prob": round(float(p), 5)}
            for p, i in zip(top.values.tolist(), top.indices.tolist(), strict=True)
        ],
        "checkpoint": ckpt.path,
    }


def _inspect_human(r: dict) -> str:
    import numpy as np

    mean = np.asarray(r["attention"])[:, :, -1, :].mean(axis=(0, 1))  # last query, all layers and heads
    lines = [" ".join(r["tokens"]), "attention from the last token (mean of all layers and heads):"]
    ranked = sorted(zip(r["tokens"], mean, strict=True), key=lambda t: -t[1])
    lines += [f"  {tok}\t{w:.2f}" for tok, w in ranked[:6]]
    lines.append("next: " + ", ".join(f"{c['token']} {c['prob']:.2f}" for c in r["top_next"][:5]))
    return "\n".join(lines)
