"""`python -m core cloze`: one JSON object with ranked candidates; bad input is one line and exit 2."""

from __future__ import annotations

import json

import pytest

from core.cli import main
from core.data.world import SEATS

SEAT_WORDS = {s[0] for s in SEATS}


def _run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("model", ["default", "cloze"])
def test_cloze_ranks_candidates_with_probabilities(model, capsys):
    code, out, err = _run(["cloze", "--json", "--model", model, "猫坐在＿上"], capsys)
    assert code == 0, err
    result = json.loads(out)
    words = [c["word"] for c in result["candidates"]]
    assert words[0] in SEAT_WORDS
    assert result["objective"] == ("masked" if model == "cloze" else "causal")
    assert all(0 <= c["prob"] <= 1 for c in result["candidates"])
    assert [c["prob"] for c in result["candidates"]] == sorted(
        (c["prob"] for c in result["candidates"]), reverse=True
    )


def test_given_candidates_and_an_added_blank(capsys):
    code, out, _ = _run(["cloze", "--json", "--candidates", "垫子,灯泡", "猫坐在"], capsys)
    result = json.loads(out)
    assert code == 0 and result["blank_added"] and result["sentence"] == "猫坐在＿"
    assert [c["word"] for c in result["candidates"]] == ["垫子", "灯泡"]
    assert sum(c["prob"] for c in result["candidates"]) == pytest.approx(1, abs=1e-4)


def test_human_output_lists_the_ranking(capsys):
    code, out, _ = _run(["cloze", "--top", "3", "猫坐在_上"], capsys)
    assert code == 0 and len(out.strip().splitlines()) == 4 and "causal" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["cloze", "--json", ""],
        ["cloze", "--json", "＿"],
        ["cloze", "--json", "＿坐在＿上"],
        ["cloze", "--json", "--temperature", "0", "猫坐在＿上"],
        ["cloze", "--json", "--candidates", ",", "猫坐在＿上"],
        ["cloze", "--json", "--checkpoint", "/nonexistent/model.safetensors", "猫坐在＿上"],
        ["cloze", "--json", "--model", "teacher", "猫坐在＿上"],
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, capsys):
    code, out, err = _run(argv, capsys)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
