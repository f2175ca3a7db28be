"""`python -m core SUBCOMMAND ...`: the headless front of the engine.

With `--json` each subcommand prints exactly one JSON object on stdout. Bad input: one line on stderr,
exit 2. A failure while working (NaN loss, …): one line on stderr, exit 1. Never a traceback, not even
for a closed stdout. JSON is strict: a non-finite figure is null, named under "non_finite".
Each command module adds its subparsers with `add_parsers(subparsers)` and sets `func(args) -> dict`
(raising ValueError for bad input) and optionally `human(result) -> str`."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from importlib import import_module

# Modules that contribute subcommands; core.cli.train holds train and inspect.
COMMAND_MODULES = ("core.cli.train", "core.cli.cost", "core.cli.cloze", "core.cli.distill")


class RunFailed(RuntimeError):
    """Work that started but could not finish (exit 1)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse prints usage + message; we promise one line
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="llm-explorer", description="LLM Explorer's headless engine")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in COMMAND_MODULES:
        import_module(name).add_parsers(sub)
    for subparser in sub.choices.values():
        subparser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:  # the reader went away (`... | head -c 100`): stop quietly, no traceback
        _silence_stdout()
        _say("error: the output was closed before it was all written")
        return 1


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    try:
        result = args.func(args)
    except RunFailed as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except (ValueError, OSError) as e:  # ConfigError, CorpusError, CheckpointError are ValueErrors
        if isinstance(e, BrokenPipeError):
            raise
        print(f"error: {_one_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 1
    except (ArithmeticError, MemoryError, RecursionError) as e:  # a figure or an input beyond what fits
        print(f"error: {type(e).__name__}: {_one_line(e)}", file=sys.stderr)
        return 2
    except Exception as e:  # noqa: BLE001 - a bug must still be one line, never a traceback
        print(f"error: internal error, please report it: {type(e).__name__}: {_one_line(e)}", file=sys.stderr)
        return 1
    if result is None:  # a non-zero rank under torchrun prints nothing
        return 0
    if args.json:
        print(strict_json(result))
    else:
        human = getattr(args, "human", None)
        print(human(result) if human else strict_json(result, indent=2))
    sys.stdout.flush()  # a closed pipe shows here, inside main's BrokenPipeError handler
    return 0


def strict_json(result: dict, indent: int | None = None) -> str:
    """JSON without NaN or Infinity (which JSON does not have): a non-finite figure is written as null, and
    the object gains "non_finite": {"key.path": "inf" | "-inf" | "nan"} naming each one."""
    found: dict[str, str] = {}

    def clean(value, path: str):
        if isinstance(value, float) and not math.isfinite(value):
            found[path] = "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
            return None
        if isinstance(value, dict):
            return {k: clean(v, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v, f"{path}[{i}]") for i, v in enumerate(value)]
        return value

    cleaned = clean(result, "")
    if found and isinstance(cleaned, dict):
        cleaned["non_finite"] = found
    return json.dumps(cleaned, ensure_ascii=False, indent=indent, allow_nan=False)


def _say(line: str) -> None:
    try:
        print(line, file=sys.stderr)
    except (OSError, ValueError):
        pass


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not raise again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _one_line(e: Exception) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else e.__class__.__name__


if __name__ == "__main__":
    sys.exit(main())
