"""Argument types the subcommands share: each turns a bad value into argparse's one-line error (exit 2),
so an empty `--corpus ""` or a `--top -3` is refused instead of quietly meaning the default."""

from __future__ import annotations

import argparse
import math


def nonempty(text: str) -> str:
    """A path or name: an empty (or all-space) string is an error, not "use the default"."""
    if not text.strip():
        raise argparse.ArgumentTypeError("is empty: give a value or leave the option out")
    if "\0" in text:
        raise argparse.ArgumentTypeError("contains a NUL character")
    return text


def positive_int(text: str) -> int:
    value = whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def whole(text: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text[:40]!r}") from None
    if abs(value) > 2**63:
        raise argparse.ArgumentTypeError(f"{text[:20]}… is too large")
    return value


def seconds(text: str) -> float:
    """A finite, non-negative number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text[:40]!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number ≥ 0, not {text[:40]!r}")
    return value
