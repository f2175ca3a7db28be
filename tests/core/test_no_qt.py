"""Boundaries that hold the design together: the engine imports no Qt, and nothing in the application
ever unpickles (a checkpoint from the internet must not be able to run code)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_the_engine_imports_without_qt():
    code = (
        "import sys\n"
        "import core, core.training.trainer, core.cli, core.analysis.probes, core.cost.flops\n"
        "import core.model.checkpoint, core.model.gpt, core.runlog\n"
        "import core.cli.train, core.data.world, core.model.tokenizer\n"
        "core.cli.build_parser()  # imports every subcommand module\n"
        "qt = sorted(m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph', 'PyQt')))\n"
        "print(','.join(qt))\n"
        "sys.exit(1 if qt else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, (
        f"Qt modules imported by core: {result.stdout.strip()} {result.stderr[-500:]}"
    )


def test_no_engine_source_imports_qt():
    pattern = re.compile(r"^\s*(from|import)\s+(PySide6|pyqtgraph|PyQt5|PyQt6|gui)\b", re.M)
    offenders = [
        str(p.relative_to(ROOT)) for p in (ROOT / "core").rglob("*.py") if pattern.search(p.read_text("utf-8"))
    ]
    assert offenders == []


# Calls that can run code from a file: pickle and its relatives, and torch.load unless weights_only=True.
UNSAFE = re.compile(
    r"\b(c?pickle|dill|joblib|shelve|marshal)\.(load|loads|Unpickler|open)\b|allow_pickle\s*=\s*True"
)
TORCH_LOAD = re.compile(r"\btorch\.load\s*\(")


def unsafe_loads(source: str) -> list[str]:
    """The offending snippets in one file's source."""
    found = [m.group(0) for m in UNSAFE.finditer(source)]
    for m in TORCH_LOAD.finditer(source):
        depth, end = 0, m.end() - 1
        for end in range(m.end() - 1, len(source)):  # the call's text up to its closing parenthesis
            depth += {"(": 1, ")": -1}.get(source[end], 0)
            if depth == 0:
                break
        call = source[m.start() : end + 1]
        if not re.search(r"weights_only\s*=\s*True", call):
            found.append(call)
    return found


def test_the_scanner_catches_what_it_is_meant_to_catch():
    assert unsafe_loads("x = pickle.load(f)")
    assert unsafe_loads("x = pickle.loads(blob)")
    assert unsafe_loads("np.load(p, allow_pickle=True)")
    assert unsafe_loads("sd = torch.load(path)")
    assert unsafe_loads("sd = torch.load(\n    path,\n    map_location='cpu',\n)")
    assert unsafe_loads("sd = torch.load(path, weights_only=False)")
    assert not unsafe_loads("sd = torch.load(\n    path,\n    weights_only=True,\n)")
    assert not unsafe_loads("data = json.loads(text)")


def _sources() -> list[Path]:
    files = [*(ROOT / "core").rglob("*.py"), *(ROOT / "gui").rglob("*.py"), ROOT / "main.py"]
    return [p for p in files if p.is_file()]


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_source_file_unpickles(path):
    assert unsafe_loads(path.read_text("utf-8")) == []
