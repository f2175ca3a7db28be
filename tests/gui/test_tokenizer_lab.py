"""The tokenizer lab: char and BPE side by side with the engine's own ids, chips never empty, long
input capped with a note (never cut), BPE retrained at another size, a file's statistics in a worker."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.model.tokenizer import train_tokenizer
from gui.panels.tokenizer_panel import CHIP_CAP, TokenizerPanel, chips_for
from gui.widgets.token_chips import visible

TEXT = "猫坐在垫子上，它很舒服。the cat sat on the mat.\n" * 40


@pytest.fixture(scope="module")
def tokenizers():
    return {"char": train_tokenizer("char", TEXT), "bpe": train_tokenizer("bpe", TEXT, 300)}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_chips_carry_the_engines_ids_and_none_is_empty(tokenizers, text):
    for tok in tokenizers.values():
        chips = chips_for(tok, text)
        assert [c.id for c in chips] == tok.encode(text)
        assert all(c.text and visible(c.text).strip() for c in chips)


def test_a_split_character_shows_its_bytes_with_a_dashed_edge(tokenizers):
    chips = chips_for(tokenizers["bpe"], "龍")  # never seen: three single-byte tokens
    assert [c.text for c in chips] == ["⟨e9⟩", "⟨be⟩", "⟨8d⟩"] and all(c.partial for c in chips)
    whole = chips_for(tokenizers["bpe"], " cat")
    assert not any(c.partial for c in whole)


def _lab(qtbot, tokenizers, calls=None):
    def train(kind, lang, vocab=None):
        if calls is not None:
            calls.append((kind, vocab))
        return tokenizers[kind] if vocab is None else train_tokenizer(kind, TEXT, vocab)

    panel = TokenizerPanel(train=train)
    qtbot.addWidget(panel)
    panel.show()
    return panel


def test_char_and_bpe_side_by_side_with_the_engines_ids(qtbot, tokenizers):
    panel = _lab(qtbot, tokenizers)
    panel.input.setText("the cat sat on the mat")
    qtbot.waitUntil(lambda: len(panel.chips()) == 22 and bool(panel.compare_chips()), timeout=10_000)
    assert [c.id for c in panel.chips()] == tokenizers["char"].encode("the cat sat on the mat")
    assert [c.id for c in panel.compare_chips()] == tokenizers["bpe"].encode("the cat sat on the mat")
    assert "每个词元" in panel.right.info.text() and "词表 " in panel.right.info.text()


def test_a_long_paste_is_counted_whole_and_drawn_capped_with_a_note(qtbot, tokenizers):
    panel = _lab(qtbot, tokenizers)
    qtbot.waitUntil(lambda: len(panel.chips()) > 0, timeout=10_000)
    text = "猫坐在垫子上。" * 6_000  # 42,000 characters: past QLineEdit's silent 32,767 cut
    started = time.perf_counter()
    panel.input.setText(text)
    assert time.perf_counter() - started < 1.0  # nothing is tokenized on the GUI thread here
    qtbot.waitUntil(lambda: "42,000 个字符" in panel.info.text(), timeout=10_000)
    assert panel.input.text() == text and panel.cap_note.isVisible()
    assert f"{CHIP_CAP:,}" in panel.cap_note.text() and len(panel.chips()) == CHIP_CAP


def test_the_bpe_vocabulary_size_retrains_bpe(qtbot, tokenizers):
    calls = []
    panel = _lab(qtbot, tokenizers, calls)
    panel.input.setText("the cat")
    qtbot.waitUntil(lambda: bool(panel.compare_chips()), timeout=10_000)
    before = panel.right.info.text()
    panel.bpe_vocab.setValue(400)
    bigger = train_tokenizer("bpe", TEXT, 400)  # this small text stops merging before 400
    assert bigger.vocab_size != tokenizers["bpe"].vocab_size
    qtbot.waitUntil(lambda: f"词表 {bigger.vocab_size}" in panel.right.info.text(), timeout=20_000)
    assert ("bpe", 400) in calls and "400" in panel.right.title.text() and panel.right.info.text() != before


def test_a_text_files_statistics_arrive_from_a_worker(qtbot, tokenizers, tmp_path):
    panel = _lab(qtbot, tokenizers)
    qtbot.waitUntil(lambda: bool(panel.compare_chips()), timeout=10_000)
    path = tmp_path / "big.txt"
    path.write_text(TEXT * 500, encoding="utf-8")  # ~1 MB
    ticks = []
    from PySide6.QtCore import QTimer

    timer = QTimer(interval=20)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    panel.open_file(str(path))
    qtbot.waitUntil(lambda: "big.txt" in panel.file_stats.text(), timeout=30_000)
    timer.stop()
    assert f"{len(TEXT) * 500:,}" in panel.file_stats.text() and len(ticks) > 1
    (tmp_path / "bad.txt").mkdir()
    panel.open_file(str(tmp_path / "bad.txt"))
    qtbot.waitUntil(lambda: "无法读取" in panel.file_stats.text(), timeout=5_000)
