"""`python -m core train` and `inspect` keep the CLI contract: with --json exactly one JSON object on
stdout; bad input is one line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import main

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_KEYS = (
    "steps", "tokens", "tokens_per_s", "train_loss", "val_loss", "flops", "coref_acc", "attn_coref_mean",
    "attn_coref_best", "attn_coref_best_head", "neighbor_purity", "checkpoint",
)  # fmt: skip
SENTENCE = "猫坐在垫子上"


def _python_m_core(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "core", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> tuple[dict, Path, subprocess.CompletedProcess]:
    """One real 20-step run of the tiny preset through the command line, shared by the tests below."""
    out = tmp_path_factory.mktemp("cli") / "run"
    proc = _python_m_core(
        "train", "--preset", "tiny", "--steps", "20", "--out", str(out), "--json", "--threads", "1"
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout), out, proc


def _cli(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _assert_one_line_error(code: int, out: str, err: str, expected_code: int = 2) -> None:
    assert code == expected_code, err
    assert out == ""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err


def test_train_prints_exactly_one_json_object_with_the_contract_keys(tiny_run):
    result, out, proc = tiny_run
    stdout = proc.stdout.strip()
    assert "\n" not in stdout and stdout.startswith("{") and stdout.endswith("}")
    assert "Traceback" not in proc.stderr
    assert isinstance(result, dict)
    for key in CONTRACT_KEYS:
        assert result.get(key) is not None, key
    assert result["steps"] == 20
    assert result["tokens"] == 20 * 32 * 32  # steps × the tiny preset's batch × context
    assert result["flops"] > 0 and result["tokens_per_s"] > 0
    assert 0 < result["train_loss"] < 10 and 0 < result["val_loss"] < 10
    for key in ("coref_acc", "attn_coref_mean", "attn_coref_best", "neighbor_purity"):
        assert 0.0 <= result[key] <= 1.0, key
    assert result["attn_coref_best_head"].startswith("L1H")
    assert Path(result["checkpoint"]).is_file()
    assert Path(result["checkpoint"]).parent == out
    assert (out / "metrics.jsonl").is_file() and (out / "model.json").is_file()


def test_inspect_reports_tokens_attention_rollout_and_next_tokens(tiny_run, capsys):
    _, out, _ = tiny_run
    code, stdout, err = _cli(["inspect", "--checkpoint", str(out), SENTENCE, "--json"], capsys)
    assert code == 0, err
    assert stdout.count("\n") == 1  # one object, one line
    r = json.loads(stdout)
    assert r["tokens"] == list(SENTENCE)
    T = len(SENTENCE)
    attention = r["attention"]
    assert len(attention) == 1 and len(attention[0]) == 2  # tiny: 1 layer × 2 heads
    for head in attention[0]:
        assert len(head) == T and all(len(row) == T for row in head)
        for i, row in enumerate(head):
            assert sum(row) == pytest.approx(1.0, abs=1e-3)
            assert all(w == 0 for w in row[i + 1 :])  # the causal model never looks ahead
    rollout = r["rollout"]
    assert len(rollout) == T and all(len(row) == T for row in rollout)
    assert all(sum(row) == pytest.approx(1.0, abs=1e-3) for row in rollout)
    top = r["top_next"]
    assert 1 <= len(top) <= 10
    probs = [c["prob"] for c in top]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1.0 + 1e-3
    assert all(isinstance(c["token"], str) for c in top)


def test_inspect_without_json_prints_a_summary(tiny_run, capsys):
    _, out, _ = tiny_run
    code, stdout, err = _cli(["inspect", "--checkpoint", str(out), SENTENCE], capsys)
    assert code == 0, err
    assert " ".join(SENTENCE) in stdout and "next:" in stdout


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "--preset", "no-such-preset"],
        ["train", "--preset", "tiny", "--steps", "-5"],
        ["train", "--preset", "tiny", "--steps", "abc"],
        ["train", "--preset", "tiny", "--steps", "0"],
        ["train", "--preset", "tiny", "--steps", "5", "--seed", "1000000000000000000000000000000"],
        ["train", "--preset", "tiny", "--steps", "10", "--seconds", "5"],
        ["train", "--preset", "tiny", "--seconds", "-1"],
        ["train", "--preset", "tiny", "--lang", "fr"],
        ["train", "--preset", "tiny", "--corpus", "{tmp}/missing.txt"],
        ["inspect", ""],
        ["inspect", "   "],
        ["inspect", "--checkpoint", "{tmp}/garbage.safetensors", "猫"],
        ["inspect", "--checkpoint", "{tmp}/nowhere", "猫"],
        ["no-such-command"],
        [],
    ],
    ids=lambda argv: " ".join(argv) or "no-arguments",
)
def test_bad_input_is_one_line_on_stderr_and_exit_code_2(argv, tmp_path, capsys):
    (tmp_path / "garbage.safetensors").write_bytes(os.urandom(2048))
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    code, out, err = _cli([*argv, "--out", str(tmp_path / "run")] if argv[:1] == ["train"] else argv, capsys)
    _assert_one_line_error(code, out, err)
    assert not (tmp_path / "run").exists()


def test_garbage_weights_beside_a_valid_description_are_bad_input(tiny_run, tmp_path, capsys):
    _, out, _ = tiny_run
    (tmp_path / "model.json").write_bytes((out / "model.json").read_bytes())
    (tmp_path / "model.safetensors").write_bytes(os.urandom(4096))
    code, stdout, err = _cli(["inspect", "--checkpoint", str(tmp_path), "猫", "--json"], capsys)
    _assert_one_line_error(code, stdout, err)
    assert "model.safetensors" in err


@pytest.mark.parametrize("content", [b"", b"\x00\x01binary\x00" * 40], ids=["empty", "binary"])
def test_an_unusable_corpus_file_fails_with_one_line(content, tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_bytes(content)
    argv = [
        "train",
        "--preset",
        "tiny",
        "--steps",
        "5",
        "--corpus",
        str(corpus),
        "--out",
        str(tmp_path / "r"),
    ]
    code, out, err = _cli([*argv, "--json"], capsys)
    assert code == 2 and out == ""
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "corpus.txt" in err


def test_the_real_entry_point_exits_2_with_one_line(tmp_path):
    """Through `python -m core`, so the exit code and stderr are what a shell script sees."""
    proc = _python_m_core("train", "--preset", "tiny", "--steps", "-5", "--out", str(tmp_path / "r"), "--json")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "steps" in proc.stderr


def test_a_run_on_a_users_text_prints_its_summary_without_probe_scores(tmp_path, capsys):
    """A user's own text has no probes: the summary says n/a instead of failing to format None."""
    corpus = tmp_path / "notes.txt"
    corpus.write_text("今天天气很好，我们去公园散步。" * 200, encoding="utf-8")
    argv = ["train", "--preset", "tiny", "--steps", "3", "--corpus", str(corpus), "--out", str(tmp_path / "r")]
    code, out, err = _cli([*argv, "--threads", "1"], capsys)
    assert code == 0, err
    assert "Traceback" not in err
    assert "3 steps" in out and "coreference top-1: n/a" in out


def test_the_english_world_trains_on_word_tokens(tmp_path, capsys):
    """The English world reads one token per word; the run labels every token for the word-vector
    timeline (a word tokenizer once had no labels, so every English run failed at the start)."""
    argv = ["train", "--preset", "tiny", "--steps", "3", "--lang", "en", "--out", str(tmp_path / "r"), "--json"]
    code, out, err = _cli([*argv, "--threads", "1"], capsys)
    assert code == 0, err
    result = json.loads(out)
    assert result["steps"] == 3 and result["coref_acc"] is not None
    assert json.loads((tmp_path / "r" / "model.json").read_text())["tokenizer"]["kind"] == "word"


def test_out_onto_an_existing_run_is_refused_unless_resume_or_force(tiny_run, tmp_path, capsys, monkeypatch):
    _, run_dir, _ = tiny_run
    before = (run_dir / "metrics.jsonl").read_bytes()
    code, out, err = _cli(["train", "--preset", "tiny", "--steps", "2", "--out", str(run_dir)], capsys)
    _assert_one_line_error(code, out, err)
    assert "--resume" in err and "--force" in err
    assert (run_dir / "metrics.jsonl").read_bytes() == before  # nothing was appended or replaced

    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    import core.training.trainer

    built = []

    class NoTraining:  # --force clears the folder before the run; the run itself is not what is tested
        def __init__(self, *args, **kwargs):
            built.append(kwargs)
            self.dist = type("D", (), {"rank": 0})()

        def run(self):
            from core.events import Done

            yield Done("finished", {"steps": 0}, "")

    monkeypatch.setattr(core.training.trainer, "Trainer", NoTraining)
    code, out, err = _cli(["train", "--preset", "tiny", "--steps", "2", "--out", str(copy), "--force"], capsys)
    assert code == 0, err
    assert not (copy / "metrics.jsonl").exists() and not (copy / "model.safetensors").exists()
