"""The attention inspector shows exactly what the model computes, and with the bundled causal model it
shows the article's moment: at …它是 the attention weighs 猫 above 垫子 (and 垫子 above 猫 for 很软)."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPointF, Qt

from core import resources
from core.analysis.probes import held_out_probes, span_tokens
from core.events import Snapshot, Started
from gui.panels.attention.panel import MAX_CHARS, AttentionPanel


@pytest.fixture
def panel(qtbot, context, causal):
    p = AttentionPanel(context)
    qtbot.addWidget(p)
    p.resize(900, 700)
    p.show()
    p.model_choice.set_checkpoint("default", causal)
    qtbot.waitUntil(lambda: p._ckpt is causal and len(p.tokens()) > 0, timeout=2000)
    return p


def _type(panel, text):
    panel.input.setText(text)
    panel.refresh()


def _weights(panel, text, antecedent, distractor):
    _type(panel, text)
    row = panel.attention_matrix()[-1]
    tokens = panel.tokens()

    def weight(word):
        start = text.index(word)
        return row[span_tokens([(i, i + 1) for i in range(len(tokens))], (start, start + len(word)))].sum()

    return weight(antecedent), weight(distractor)


def test_the_matrix_is_what_the_model_computes(panel, causal):
    text = "猫坐在垫子上，它很舒服。它是"
    _type(panel, text)
    assert panel.tokens() == causal.tokenizer.display_tokens(text)
    n_layer = causal.model_cfg.n_layer
    for view in [(None, None, False), (0, None, False), (n_layer - 1, 1, False), (None, None, True)]:
        panel.set_view(*view)
        m = panel.attention_matrix()
        assert m.shape == (len(text), len(text))
        assert np.allclose(m.sum(1), 1, atol=1e-5)
        assert np.allclose(np.triu(m, 1), 0), view  # causal: nothing looks ahead
        assert np.array_equal(m, panel.heatmap.matrix())  # the heatmap is given exactly this
    _assert_painted(panel.heatmap)


def _assert_painted(heatmap):
    """Every cell's centre on screen has the colour of its weight on the fixed 0-1 scale."""
    image = heatmap.grab().toImage()
    cells, colors = heatmap.cells_rect(), heatmap.colors()
    n = colors.shape[0]
    for i in range(n):
        for j in range(n):
            x = cells.left() + (j + 0.5) * cells.width() / n
            y = cells.top() + (i + 0.5) * cells.height() / n
            pixel = image.pixelColor(int(x), int(y))
            assert (pixel.red(), pixel.green(), pixel.blue()) == tuple(colors[i, j]), (i, j)


def test_the_default_view_resolves_it_by_meaning(panel):
    assert panel.view() == (None, None, False)  # the mean over all layers and heads by default
    cat, mat = _weights(panel, "猫坐在垫子上，它很舒服。它是", "猫", "垫子")
    assert cat > mat
    cat, mat = _weights(panel, "猫坐在垫子上，它很软。它是", "猫", "垫子")
    assert mat > cat
    assert panel.headline.text().startswith("它是 → ")


def test_mean_of_heads_prefers_the_antecedent_on_held_out_probes(panel):
    panel.set_view(None)
    probes = held_out_probes("zh", 0)
    wins = 0
    for probe in probes:
        _type(panel, probe.text)
        row = panel.attention_matrix()[-1]
        offsets = [(i, i + 1) for i in range(len(probe.text))]
        wins += (
            row[span_tokens(offsets, probe.antecedent_span)].sum()
            > row[span_tokens(offsets, probe.distractor_span)].sum()
        )
    assert wins / len(probes) >= 0.70


def test_find_the_coreference_head_reports_score_and_untrained_baseline(panel, qtbot):
    qtbot.mouseClick(panel.find_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel._reports.get(panel._ckpt.path) is not None, timeout=60_000)
    report = panel._reports[panel._ckpt.path]
    assert report["attn_coref_best"] >= report["baseline_attn_coref_best"] + 0.2
    text = panel.summary.text()
    assert report["attn_coref_best_head"] in text
    assert f"{report['attn_coref_best']:.2f}" in text and f"{report['baseline_attn_coref_best']:.2f}" in text
    layer, head, _ = panel.view()
    assert f"L{layer + 1}H{head + 1}" == report["attn_coref_best_head"]
    # the score split by what 它 refers to, each beside its untrained baseline
    for kind in ("animal", "seat"):
        score, base = report[f"attn_coref_mean_{kind}"], report[f"baseline_attn_coref_mean_{kind}"]
        assert f"{score:.2f}（未训练 {base:.2f}）" in text


def test_a_model_that_attends_by_category_is_told_so(monkeypatch):
    from gui.panels.attention.summary import summary_line

    monkeypatch.setattr("gui.i18n._language", "en")
    scores = {"attn_coref_mean": 0.5, "attn_coref_best": 0.6, "attn_coref_best_head": "L1H1"}
    by_category = summary_line({**scores, "attn_coref_mean_animal": 1.0, "attn_coref_mean_seat": 0.0}, "causal")
    assert "when 它 is the animal 1.00" in by_category and "when it is the seat 0.00" in by_category
    assert "whatever the predicate says" in by_category
    by_meaning = summary_line({**scores, "attn_coref_mean_animal": 0.9, "attn_coref_mean_seat": 0.8}, "causal")
    assert "when it is the seat 0.80" in by_meaning and "whatever the predicate says" not in by_meaning
    assert "when 它" not in summary_line(scores, "causal")  # an older checkpoint without the split


def test_switching_models_never_leaves_stale_tokens(panel, zh_bpe_checkpoint):
    text = "猫坐在垫子上，它很舒服。它是"
    _type(panel, text)
    panel.model_choice.set_checkpoint("opened", zh_bpe_checkpoint)
    panel.model_choice.select("opened")
    assert panel.tokens() == zh_bpe_checkpoint.tokenizer.display_tokens(text)
    assert panel.attention_matrix().shape == (len(panel.tokens()),) * 2
    panel.model_choice.select("default")
    assert panel.tokens() == list(text)


def test_bad_input_gives_hints_not_dialogs(panel, causal):
    _type(panel, "")
    assert panel.tokens() == [] and panel.attention_matrix().size == 0 and "输入" in panel.info.text()
    long = "猫坐在垫子上，它很舒服。" * 10 + "它是"
    _type(panel, long)
    block = causal.model_cfg.block_size
    assert panel.tokens() == list(long[-block:]) and panel.attention_matrix().shape == (block, block)
    assert "上下文" in panel.info.text()
    _type(panel, "☃☃😀")
    assert all(c.unknown for c in panel.chips.chips()) and "😀" in panel.info.text()
    started = time.perf_counter()
    panel.input.setText("猫" * 1_000_000)
    panel.refresh()
    assert len(panel.input.text()) == MAX_CHARS and time.perf_counter() - started < 2.0
    assert str(MAX_CHARS) in panel.info.text()


def test_clicking_a_heatmap_row_selects_that_query(panel, qtbot):
    _type(panel, "猫坐在垫子上，它很舒服。它是")
    cells, n = panel.heatmap.cells_rect(), len(panel.tokens())
    at = cells.topLeft() + QPointF(cells.width() / 2, (7.5 / n) * cells.height())  # row 7: the first 它
    qtbot.mouseClick(panel.heatmap, Qt.MouseButton.LeftButton, pos=at.toPoint())
    assert panel._selected == 7 and panel.headline.text().startswith("，它 → ")
    qtbot.mouseClick(panel.heatmap, Qt.MouseButton.LeftButton, pos=QPointF(2, 2).toPoint())  # a label: nothing
    assert panel._selected == 7


def test_clicking_a_token_explains_its_row(panel, qtbot):
    _type(panel, "猫坐在垫子上，它很舒服。它是")
    rect = panel.chips._rects[7]  # the first 它
    qtbot.mouseClick(panel.chips, Qt.MouseButton.LeftButton, pos=rect.center().toPoint())
    assert panel._selected == 7 and panel.headline.text().startswith("，它 → ")
    assert abs(sum(v for _, v in panel.bars.items()) - 1) < 0.05 or len(panel.bars.items()) == 8


def test_follows_a_training_run_through_its_snapshots(panel, context):
    context.session.run_started.emit(Started("", "tiny", 1, 100, 0.0, 50, 1000))
    assert panel.model_choice.is_live() and panel.input.isReadOnly()
    att = np.random.default_rng(0).random((2, 4, 3, 3)).astype(np.float32)
    att /= att.sum(-1, keepdims=True)
    context.session.snapshot_ready.emit(
        Snapshot(50, (), (), np.zeros((0, 0)), "猫坐在", ("猫", "坐", "在"), att)
    )
    assert panel.tokens() == ["猫", "坐", "在"] and panel.input.text() == "猫坐在"
    assert np.allclose(panel.attention_matrix(), att.mean(axis=(0, 1)))
    assert "50" in panel.info.text()

    # Hidden behind another tab, the panel holds the latest snapshot and draws it when shown again.
    panel.hide()
    context.session.snapshot_ready.emit(
        Snapshot(100, (), (), np.zeros((0, 0)), "狗坐在床上", ("狗", "坐", "在", "床", "上"), att[..., :1, :1])
    )
    assert panel.tokens() == ["猫", "坐", "在"]
    att5 = np.full((2, 4, 5, 5), 0.2, np.float32)
    context.session.snapshot_ready.emit(
        Snapshot(150, (), (), np.zeros((0, 0)), "狗坐在床上", ("狗", "坐", "在", "床", "上"), att5)
    )
    panel.show()
    assert panel.tokens() == ["狗", "坐", "在", "床", "上"] and "150" in panel.info.text()


@pytest.fixture
def zh_bpe_checkpoint(causal):
    """A tiny untrained model with a BPE tokenizer: different tokens for the same text."""
    from core.data.world import world_corpus
    from core.model.checkpoint import Checkpoint
    from core.model.gpt import GPT
    from core.model.tokenizer import train_tokenizer

    tok = train_tokenizer("bpe", world_corpus("zh", 0, 20_000).train_text, vocab_size=400)
    torch.manual_seed(0)
    cfg = replace(causal.model_cfg, vocab_size=tok.vocab_size)
    return Checkpoint(GPT(cfg).eval(), tok, cfg, causal.train_cfg, {}, "/tmp/bpe-test-model")


def test_bundled_model_loads_in_a_worker(qtbot, context, monkeypatch):
    monkeypatch.setenv("LLM_EXPLORER_MODELS", str(resources.root() / "models"))
    from gui.widgets import model_choice

    monkeypatch.setattr(model_choice, "_cache", {})
    p = AttentionPanel(context)
    qtbot.addWidget(p)
    qtbot.waitUntil(lambda: len(p.tokens()) > 0, timeout=20_000)
    assert p.tokens() == list("猫坐在垫子上，它很舒服。它是")
    assert "0.9" in p.summary.text() or "0.8" in p.summary.text()


def test_the_summary_quotes_the_models_own_world(monkeypatch):
    """An English model's line speaks of "it" and ", that", not of 它是 (the interface language is separate)."""
    from gui.panels.attention.summary import summary_line

    monkeypatch.setattr("gui.i18n._language", "en")
    scores = {"attn_coref_mean": 0.9, "attn_coref_best": 0.95, "attn_coref_best_head": "L2H1", "coref_acc": 1.0}
    scores |= {"attn_coref_mean_animal": 1.0, "attn_coref_mean_seat": 0.1}
    english = summary_line(scores, "causal", "en")
    assert "at “…, that”" in english and "when it is the animal" in english and "“was comfortable”" in english
    assert "它" not in english
    chinese_model = summary_line(scores, "causal", "zh")
    assert "at “…它是”" in chinese_model and "when 它 is the animal" in chinese_model
