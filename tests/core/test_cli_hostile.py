"""The CLI's promises for every argument: a bad value (empty strings included) is exit 2 and one line on
stderr; no input and no closed stdout gives a traceback; JSON is strict (no NaN or Infinity)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import core.training.trainer
from core.cli import main, strict_json
from core.events import Done

ROOT = Path(__file__).resolve().parents[2]


def _run(argv, capsys) -> tuple[int, str, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def _one_line(code, out, err, expected=2):
    assert code == expected, (code, err)
    assert out == "" and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "--corpus", ""],
        ["train", "--out", "  "],
        ["train", "--resume", ""],
        ["train", "--checkpoint-every", "0"],
        ["train", "--checkpoint-seconds", "nan"],
        ["train", "--seconds", "inf"],
        ["train", "--seconds", "-1"],
        ["train", "--seed", "1" * 400],
        ["inspect", "猫", "--checkpoint", ""],
        ["inspect", "猫", "--top", "0"],
        ["inspect", "   "],
        ["cloze", "猫坐在＿上", "--checkpoint", ""],
        ["cloze", "猫坐在＿上", "--top", "-3"],
        ["cloze", "猫坐在＿上", "--candidates", " , ，"],
        ["cost", "--gpu", "A100=" + "9" * 400, "--params", "1e9", "--tokens", "1e9"],
        ["cost", "--params", "1e308", "--tokens", "1e308", "--json"],
        ["cost", "--params", "1e9", "--tokens", "1e9", "--precision", ""],
        ["cost", "--params", "", "--tokens", "1e9"],
        ["cost", "--params", "1,5", "--tokens", "1e9"],
    ],
)
def test_every_bad_value_is_exit_2_and_one_line(argv, capsys):
    _one_line(*_run(argv, capsys))


def test_a_folder_named_like_a_weights_file_is_called_a_folder(tmp_path, capsys):
    folder = tmp_path / "model.safetensors"
    folder.mkdir()
    code, out, err = _run(["inspect", "猫", "--checkpoint", str(folder)], capsys)
    _one_line(code, out, err)
    assert "folder" in err


def test_strict_json_writes_non_finite_figures_as_null_and_names_them():
    text = strict_json({"a": 1.0, "b": float("inf"), "c": [float("nan"), 2], "d": {"e": -math.inf}})
    doc = json.loads(text)  # plain json.loads would also accept NaN; the text must not contain it
    assert "Infinity" not in text and "NaN" not in text
    assert doc["b"] is None and doc["c"] == [None, 2] and doc["d"]["e"] is None
    assert doc["non_finite"] == {"b": "inf", "c[0]": "nan", "d.e": "-inf"}


def test_a_closed_stdout_is_no_traceback():
    """`inspect … | head -c 100`: the reader is gone before the output is written."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "core", "cost", "--preset", "gpt3", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    proc.stdout.close()  # as `head` does once it has its bytes
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert "Traceback" not in err and proc.returncode == 1, err
    assert len(err.strip().splitlines()) == 1


def test_text_that_bpe_compresses_below_one_context_is_bad_input_naming_the_token_count(tmp_path, capsys):
    corpus = tmp_path / "a.txt"
    corpus.write_text("ab" * 4000, "utf-8")  # 8,000 characters, a handful of BPE tokens
    code, out, err = _run(
        ["train", "--corpus", str(corpus), "--out", str(tmp_path / "run"), "--steps", "2"], capsys
    )
    _one_line(code, out, err)
    assert "tokens for a context" in err and "8,000 characters" in err


class _NoTraining:
    """Stands in for the Trainer while fuzzing train's flags: the arguments are checked, nothing trains."""

    def __init__(self, *args, **kwargs):
        self.dist = type("D", (), {"rank": 0})()

    def run(self):
        yield Done("finished", {"steps": 0, "checkpoint": ""}, "")


TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", " ", "-1", "0", "1e309", "nan", "inf", "1,5", "\u202e", "9" * 400, "../..", "A100="]),
)
FLAGS = {
    "train": ["--preset", "--corpus", "--lang", "--steps", "--seconds", "--seed", "--out", "--threads",
              "--resume", "--checkpoint-every", "--checkpoint-seconds"],
    "cost": ["--preset", "--params", "--tokens", "--gpu", "--mfu", "--price", "--precision", "--pue", "--days"],
    "inspect": ["--checkpoint", "--top"],
    "cloze": ["--checkpoint", "--model", "--candidates", "--top", "--temperature"],
    "factcheck": ["--lang"],
}  # fmt: skip
BASE = {"cost": ["--params", "1e9", "--tokens", "1e9"], "inspect": ["猫"], "cloze": ["猫坐在＿上"]}


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    command=st.sampled_from(sorted(FLAGS)),
    data=st.data(),
)
def test_any_value_of_any_flag_is_a_result_or_one_line_never_a_traceback(command, data, tmp_path, monkeypatch):
    monkeypatch.setattr(core.training.trainer, "Trainer", _NoTraining)
    monkeypatch.chdir(tmp_path)
    flag = data.draw(st.sampled_from(FLAGS[command]), label="flag")
    value = data.draw(TEXT, label="value")
    if command == "train" and flag == "--out":
        value = value or ""
    argv = [command, *BASE.get(command, []), flag, value, "--json"]
    import io
    from contextlib import redirect_stderr, redirect_stdout

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    assert "Traceback" not in err.getvalue()
    if code == 0:
        json.loads(out.getvalue())
    else:
        assert code in (1, 2) and len(err.getvalue().strip().splitlines()) == 1, (argv, err.getvalue())
        assert out.getvalue() == ""
