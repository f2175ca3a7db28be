"""CLI subcommand `cloze`: the fill-in-the-blank game from the command line."""

from __future__ import annotations

import argparse

from core.cli.args import nonempty, positive_int


def add_parsers(sub) -> None:
    p = sub.add_parser("cloze", help="rank words for the blank (＿ or _) in a sentence")
    p.add_argument("sentence", help='e.g. "猫坐在＿上"; without a blank, one is added at the end')
    p.add_argument(
        "--checkpoint", type=nonempty, help="checkpoint file or run folder (default: the bundled model)"
    )
    p.add_argument(
        "--model",
        choices=("default", "cloze"),
        default="default",
        help="which bundled model when no --checkpoint: causal (default) or masked (cloze)",
    )
    p.add_argument(
        "--candidates",
        help="comma-separated words to rank (default: the world's nouns plus the model's own top tokens)",
    )
    p.add_argument("--top", type=positive_int, default=10, help="how many ranked candidates to print")
    p.add_argument("--temperature", type=float, default=1.0, help="softmax temperature over the scores")
    p.set_defaults(func=run_cloze, human=_cloze_human)


def run_cloze(args: argparse.Namespace) -> dict:
    from core.analysis import cloze
    from core.cli.train import load_model

    sentence = args.sentence
    if not sentence.strip() or not sentence.strip("＿_ "):
        raise ValueError("the sentence is empty: write one with a blank, e.g. 猫坐在＿上")
    if not 0 < args.temperature <= 100:
        raise ValueError("--temperature must be above 0 and at most 100")
    if args.top < 1:
        raise ValueError("--top must be at least 1")
    added = cloze.find_blank(sentence) < 0
    if added:
        sentence += "＿"
    candidates = None
    if args.candidates is not None:
        candidates = [c for c in args.candidates.replace("，", ",").split(",") if c.strip()]
        if not candidates:
            raise ValueError("--candidates lists no words")
    ckpt = load_model(args.checkpoint, args.model)
    lang = ckpt.meta.get("lang", "zh") if ckpt.meta.get("lang") in ("zh", "en") else "zh"
    scores = cloze.score_blank(ckpt.model, ckpt.tokenizer, sentence, candidates, lang)
    probs = cloze.apply_temperature(scores.logprobs, args.temperature)
    order = probs.argsort()[::-1][: args.top]
    return {
        "sentence": sentence,
        "blank_added": added,
        "objective": scores.objective,
        "temperature": args.temperature,
        "entropy": round(cloze.entropy(probs), 5),
        "n_candidates": len(scores.words),
        "candidates": [
            {
                "word": scores.words[i],
                "prob": round(float(probs[i]), 5),
                "logprob": round(float(scores.logprobs[i]), 4),
            }
            for i in order
        ],
        "dropped_tokens": scores.dropped,
        "checkpoint": ckpt.path,
    }


def _cloze_human(r: dict) -> str:
    how = (
        "masked model, blank predicted directly"
        if r["objective"] == "masked"
        else "causal model, each completed sentence scored"
    )
    lines = [f"{r['sentence']}   ({how}; probabilities over {r['n_candidates']} candidates)"]
    lines += [f"  {c['word']}\t{c['prob']:.3f}" for c in r["candidates"]]
    return "\n".join(lines)
