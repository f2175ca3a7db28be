"""`python -m core SUBCOMMAND ...`: the headless front of the engine.

With `--json` each subcommand prints exactly one JSON object on stdout. Bad input: one line on stderr,
exit 2. A failure while working (NaN loss, …): one line on stderr, exit 1. Never a traceback.
Each command module adds its subparsers with `add_parsers(subparsers)` and sets `func(args) -> dict`
(raising ValueError for bad input) and optionally `human(result) -> str`."""

from __future__ import annotations

import argparse
import json
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
        print(f"error: {_one_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 1
    if result is None:  # a non-zero rank under torchrun prints nothing
        return 0
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        human = getattr(args, "human", None)
        print(human(result) if human else json.dumps(result, ensure_ascii=False, indent=2))
    return 0


def _one_line(e: Exception) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else e.__class__.__name__


if __name__ == "__main__":
    sys.exit(main())
