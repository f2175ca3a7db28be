"""The installed package, not the checkout: a wheel built from this tree, installed into a fresh virtual
environment, answers the CLI from outside the source tree with its own bundled resources."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(args, cwd, **kw):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LLM_EXPLORER_MODELS")}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, **kw)


@pytest.mark.slow
def test_wheel_carries_resources_and_runs_outside_the_tree(tmp_path):
    dist = tmp_path / "dist"
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", dist, ROOT], tmp_path
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = dist.glob("llm_explorer-*.whl")
    # The venv sees the running interpreter's packages (torch, Qt: no download) through a .pth line, after its
    # own; the checkout's editable install is a finder that such a line does not load.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    inner = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path)
    outer = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(inner.stdout.strip()) / "outer-packages.pth").write_text("\n".join(sorted(outer)) + "\n")
    installed = _run([python, "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", wheel], tmp_path)
    assert installed.returncode == 0, installed.stderr[-2000:]

    where = _run(
        [python, "-c", "import core, core.resources as r; print(core.__file__); print(r.root())"], tmp_path
    )
    package, resources = where.stdout.split()
    assert Path(package).is_relative_to(venv) and Path(resources).is_relative_to(venv), where.stdout

    cost = _run([python, "-m", "core", "cost", "--preset", "gpt3", "--gpu", "A100=1024", "--json"], tmp_path)
    assert cost.returncode == 0, cost.stderr
    assert json.loads(cost.stdout)["days"] > 0

    inspect = _run([python, "-m", "core", "inspect", "猫坐在垫子上，它很舒服。它是", "--json"], tmp_path)
    assert inspect.returncode == 0, inspect.stderr
    result = json.loads(inspect.stdout)
    assert result["tokens"][0] == "猫" and result["top_next"]
