"""The fill-in-the-blank panel: 猫坐在＿上 puts something to sit on above 灯泡, the temperature slider
visibly changes the distribution, generation colours tokens, and bad input gives hints."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import Qt

from core.data.world import SEATS
from core.events import Eval, Started
from gui.panels.cloze_panel import MAX_CHARS, ClozePanel, prob_colour

SEAT_WORDS = {s[0] for s in SEATS}


@pytest.fixture
def panel(qtbot, context, causal):
    p = ClozePanel(context)
    qtbot.addWidget(p)
    p.resize(600, 600)
    p.show()
    p.model_choice.set_checkpoint("default", causal)
    qtbot.waitUntil(lambda: p._ckpt is causal and len(p.results_items()) > 0, timeout=2000)
    return p


def _type(panel, text):
    panel.input.setText(text)
    panel.refresh()


def test_something_to_sit_on_beats_a_bulb(panel):
    panel.top_k.setValue(50)
    _type(panel, "猫坐在＿上")
    probs = dict(panel.results_items())
    assert panel.results_items()[0][0] in SEAT_WORDS
    assert max(probs[s] for s in SEAT_WORDS) > probs.get("灯泡", 0.0)
    assert "整句" in panel.explain.text()


def test_temperature_sharpens_and_flattens(panel):
    _type(panel, "猫坐在＿上")
    panel.set_temperature(0.3)
    cold, cold_top = panel.entropy(), panel.results_items()[0][1]
    panel.set_temperature(2.0)
    warm, warm_top = panel.entropy(), panel.results_items()[0][1]
    assert cold < warm and cold_top > warm_top
    assert "2.0" in panel.temp_label.text() and f"{warm:.2f}" in panel.entropy_label.text()


def test_next_token_mode_and_coloured_generation(panel, qtbot):
    _type(panel, "猫坐在")
    assert len(panel.results_items()) == panel.top_k.value() and "下一个" in panel.explain.text()
    panel.length.setValue(12)
    qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    generated = panel.generated()
    assert len(generated) == 12 and all(0 < p <= 1 for _, p in generated)
    assert panel.generated_view.toHtml().count("color:#") >= 2  # the prompt grey, then coloured tokens
    assert prob_colour(0.9) != prob_colour(0.001)


def test_switching_to_the_masked_model(panel, masked):
    panel.model_choice.set_checkpoint("cloze", masked)
    panel.model_choice.select("cloze")
    assert panel._ckpt is masked and "双向" in panel.explain.text()
    assert panel.results_items()[0][0] in SEAT_WORDS


def test_bad_input_gives_hints(panel):
    _type(panel, "")
    assert panel.results_items() == [] and "空格" in panel.explain.text()
    _type(panel, "＿坐在＿上")
    assert panel.results_items() == [] and "one blank" in panel.explain.text()
    _type(panel, "😀坐在＿上")
    assert panel.results_items() and "😀" in panel.explain.text()
    started = time.perf_counter()
    panel.input.setText("猫" * 1_000_000 + "＿")
    panel.refresh()
    assert len(panel.input.text()) == MAX_CHARS and time.perf_counter() - started < 3.0


def test_follows_a_run_through_its_evaluations(panel, context):
    context.session.run_started.emit(Started("", "tiny", 1, 100, 0.0, 50, 1000))
    assert panel.model_choice.is_live() and panel._ckpt is None
    context.session.evaluated.emit(Eval(200, 1.0, {"cloze_top5_good": 0.8, "cloze_bad_max_prob": 0.01}))
    assert "200" in panel.explain.text() and "0.80" in panel.explain.text()
    assert not np.isnan(panel.entropy())
