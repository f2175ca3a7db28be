"""`cost` and `factcheck`: through a local argparse harness (the contract with core/cli.py) and, when the
main CLI is present, through `python -m core ... --json` in a subprocess."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import cost as cli_cost

ROOT = Path(__file__).resolve().parents[2]


def run(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser()
    cli_cost.add_parsers(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    result = args.func(args)
    json.dumps(result, ensure_ascii=False)  # must be JSON-able
    assert isinstance(args.human(result), str)
    return result


def test_cost_reports_the_promised_keys():
    r = run(["cost", "--params", "175e9", "--tokens", "300e9", "--gpu", "A100=1024", "--gpu", "H800=512"])
    for key in (
        "flops",
        "seconds",
        "days",
        "gpu_hours",
        "cost_usd",
        "energy_kwh",
        "memory_per_gpu_gb",
        "fits",
    ):
        assert key in r
    assert r["flops"] == pytest.approx(3.15e23)
    assert r["fleet"] == {"A100": 1024, "H800": 512}


def test_cost_gpt3_on_one_a100_at_full_mfu():
    r = run(["cost", "--preset", "gpt3", "--gpu", "A100=1", "--mfu", "1"])
    assert r["years"] == pytest.approx(31.9, rel=0.01)


def test_cost_deepseek_preset_uses_its_fleet_and_price():
    r = run(["cost", "--preset", "deepseek-v3", "--mfu", "0.3308", "--price", "2"])
    assert r["fleet"] == {"H800": 2048}
    assert r["gpu_hours"] == pytest.approx(2.788e6, rel=0.02)
    assert r["cost_usd"] == pytest.approx(5.576e6, rel=0.02)


def test_cost_inverse_mode():
    r = run(["cost", "--params", "7e9", "--tokens", "0", "--gpu", "H100=8", "--days", "30"])
    assert r["inverse_tokens"] > 0


@pytest.mark.parametrize(
    "argv",
    [
        ["cost", "--params", "-5", "--tokens", "1e9"],
        ["cost", "--params", "5e9", "--tokens", "-1"],
        ["cost", "--params", "5e9", "--tokens", "1e9", "--gpu", "A100=-3"],
        ["cost", "--params", "5e9", "--tokens", "1e9", "--gpu", "A100=0"],
        ["cost", "--params", "5e9", "--tokens", "1e9", "--price", "-2"],
        ["cost", "--params", "5e9", "--tokens", "1e9", "--mfu", "0"],
        ["cost", "--params", "5e9", "--tokens", "1e9", "--gpu", "TPU=3"],
        ["cost", "--params", "5e9", "--tokens", "1e9", "--precision", "int3"],
        ["cost", "--tokens", "1e9"],
    ],
)
def test_bad_input_is_a_value_error(argv):
    with pytest.raises(ValueError):
        run(argv)


def test_factcheck_gives_a_verdict_for_every_claim():
    r = run(["factcheck"])
    ids = {c["id"] for c in r["claims"]}
    assert {"gpt3_flops", "a100_355_years", "a100_3640_month", "h800_60_77", "deepseek_cost"} <= ids
    for c in r["claims"]:
        assert c["verdict"] in ("correct", "misattributed", "unsupported", "rumoured")
        assert c["sources"] and c["computed_text"]


def _python_m_core(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "core", *argv], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_main_cli_cost_json():
    p = _python_m_core("cost", "--preset", "gpt3", "--gpu", "A100=1", "--mfu", "1", "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["years"] == pytest.approx(31.9, rel=0.01)


def test_main_cli_rejects_negatives_with_exit_2_and_one_line():
    p = _python_m_core("cost", "--params", "-5", "--tokens", "1e9", "--json")
    assert p.returncode == 2
    assert p.stdout == "" and len(p.stderr.strip().splitlines()) == 1


def test_main_cli_factcheck_json():
    p = _python_m_core("factcheck", "--json")
    assert p.returncode == 0, p.stderr
    verdicts = json.loads(p.stdout)["verdicts"]
    assert verdicts["a100_355_years"] == "misattributed" and verdicts["deepseek_cost"] == "correct"
