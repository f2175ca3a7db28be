"""Every text field a learner types into takes any text without an exception, a freeze or a silent
wrong result: hypothesis over the attention and cloze inputs and the cost panel's two number fields."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gui.panels.attention.panel import MAX_CHARS, AttentionPanel
from gui.panels.cloze_panel import ClozePanel
from gui.panels.cost.panel import READOUTS, CostPanel

HOSTILE = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "",
            " ",
            "＿",
            "_＿_",
            "\u202e猫",
            "\ud800",
            "\x00",
            "猫" * 5000,
            "a" * 5000,
            "1e309",
            "1,5",
            "nan",
            "-0",
        ]
    ),
)
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def attention(qtbot, context, causal):
    p = AttentionPanel(context)
    qtbot.addWidget(p)
    p.model_choice.set_checkpoint("default", causal)
    qtbot.waitUntil(lambda: p._ckpt is causal, timeout=2000)
    return p


@pytest.fixture
def cloze(qtbot, context, causal):
    p = ClozePanel(context)
    qtbot.addWidget(p)
    p.model_choice.set_checkpoint("default", causal)
    qtbot.waitUntil(lambda: p._ckpt is causal, timeout=2000)
    return p


@SETTINGS
@given(text=HOSTILE)
def test_the_attention_input_takes_any_text(attention, text):
    attention.input.setText(text)
    t0 = time.perf_counter()
    attention.refresh()
    assert time.perf_counter() - t0 < 2.0  # bounded by the cap and the context, not by the paste
    assert len(attention.input.text()) <= MAX_CHARS


def test_a_long_paste_into_the_attention_input_says_it_was_cut(attention):
    attention.input.setText("猫" * 100_000)
    attention.refresh()
    assert str(MAX_CHARS) in attention.info.text()


@SETTINGS
@given(text=HOSTILE)
def test_the_cloze_input_takes_any_text(cloze, text):
    cloze.input.setText(text)
    cloze.refresh()


def test_a_long_paste_into_the_cloze_input_says_it_was_cut(cloze):
    cloze.input.setText("猫坐在＿上" * 100_000)
    cloze.refresh()
    assert str(MAX_CHARS) in cloze._note


@pytest.fixture
def cost(qtbot):
    p = CostPanel(None)
    qtbot.addWidget(p)
    return p


@SETTINGS
@given(params=HOSTILE, tokens=HOSTILE)
def test_the_cost_fields_never_estimate_from_a_value_they_do_not_hold(cost, params, tokens):
    for edit, text in ((cost.params, params), (cost.tokens, tokens)):
        edit.setText(text)
        edit.textEdited.emit(text)
    e = cost.recompute()
    shown = {name: cost.readouts[name].text() for name in READOUTS}
    valid = all(cost._parse(edit)[0] is not None for edit in (cost.params, cost.tokens))
    if not valid:  # a field that is not a usable number: no figures, and the hint says why
        assert set(shown.values()) == {"—"} and cost.hint.text()
    else:
        assert e.n_params == float(params) and e.n_tokens == float(tokens)


@pytest.mark.parametrize("text", ["1e309", "1,5", "abc"])
def test_the_testers_cost_inputs_are_refused_visibly(cost, text):
    cost.params.setText(text)
    cost.params.textEdited.emit(text)
    cost.recompute()
    assert cost.readouts["costUsd"].text() == "—" and text in cost.hint.text()
