"""`python -m core distill`: bad input exits 2 with one line on stderr before anything trains; a short race
prints the promised keys."""

from __future__ import annotations

import json

import pytest

from core.cli import main


@pytest.mark.parametrize(
    "argv",
    [
        ["--temperature", "0"],
        ["--temperature", "-2"],
        ["--alpha", "1.5"],
        ["--hidden-weight", "-1"],
        ["--attn-weight", "-0.5"],
        ["--steps", "0"],
        ["--teacher", "/no/such/teacher.safetensors"],
        ["--cache-teacher", "--hidden-weight", "1"],
    ],
)
def test_bad_input_exits_2_with_one_line(argv, capsys):
    assert main(["distill", *argv, "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_teacher_that_cannot_teach_is_bad_input(capsys):
    from core import resources

    assert main(["distill", "--teacher", str(resources.bundled_model("cloze")), "--steps", "2"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "objective" in err


def test_a_teacher_file_that_does_not_load_is_bad_input(tmp_path, capsys):
    (tmp_path / "t.safetensors").write_bytes(b"not a model")
    (tmp_path / "t.json").write_text("{}")
    assert main(["distill", "--teacher", str(tmp_path / "t.safetensors")]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


@pytest.mark.slow
def test_a_short_race_reports_curves_finals_and_ratios(tmp_path, capsys):
    argv = ["distill", "--student-preset", "tiny", "--steps", "12", "--compare-scratch", "--cache-teacher"]
    assert main([*argv, "--out", str(tmp_path / "run"), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    for key in ("steps_to_match", "steps_ratio", "coref_steps_ratio", "flops_ratio", "flops_ratio_cached"):
        assert key in r
    assert r["steps"] == 12 and [p["step"] for p in r["curves"]["distilled"]][:2] == [0, 10]
    assert set(r["finals"]) == {"distilled", "scratch", "teacher", "untrained"}
    assert r["finals"]["teacher"]["val_loss"] < r["finals"]["untrained"]["val_loss"]
    assert (tmp_path / "run" / "metrics.jsonl").exists()
    assert (tmp_path / "run" / "scratch" / "model.safetensors").exists()
