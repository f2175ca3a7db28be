"""The fill-in-the-blank game: honest scoring of a blank anywhere, temperature, and sampling.

The behaviour tests use the bundled models (resources/models/default and cloze); the mechanics tests use
tiny untrained models so they run in milliseconds."""

from __future__ import annotations

import numpy as np
import pytest

from core.analysis import cloze
from core.data.world import OBJECTS, SEATS
from core.model.tokenizer import train_tokenizer

SEAT_WORDS = {s[0] for s in SEATS}
OBJECT_WORDS = {o[0] for o in OBJECTS}


@pytest.fixture
def tiny(make_model, zh_tokenizer):
    return make_model(vocab_size=zh_tokenizer.vocab_size), zh_tokenizer


def _ranked(ckpt, text="猫坐在＿上"):
    return dict(cloze.fill_blank(ckpt.model, ckpt.tokenizer, text, top=1000))


@pytest.mark.parametrize("which", ["causal", "masked"])
def test_the_cat_sits_on_something_to_sit_on_not_on_a_bulb(which, request):
    ckpt = request.getfixturevalue(which)
    probs = _ranked(ckpt)
    top_word = max(probs, key=probs.get)
    assert top_word in SEAT_WORDS, sorted(probs.items(), key=lambda t: -t[1])[:5]
    assert max(probs[s] for s in SEAT_WORDS) > probs["灯泡"]
    assert sum(probs[s] for s in SEAT_WORDS) > sum(probs[o] for o in OBJECT_WORDS)


def test_probabilities_are_normalised_over_the_candidates(tiny):
    model, tok = tiny
    ranked = cloze.fill_blank(model, tok, "猫坐在＿上", top=1000)
    assert abs(sum(p for _, p in ranked) - 1) < 1e-9
    assert [p for _, p in ranked] == sorted((p for _, p in ranked), reverse=True)
    chosen = cloze.fill_blank(model, tok, "猫坐在＿上", candidates=["垫子", "灯泡"], top=5)
    assert {w for w, _ in chosen} == {"垫子", "灯泡"}


def test_masked_model_scores_multi_token_words(make_model, zh_tokenizer):
    model = make_model(vocab_size=zh_tokenizer.vocab_size, objective="masked")
    scores = cloze.score_blank(model, zh_tokenizer, "猫坐在＿上", ["垫子", "床", "电风扇"])
    assert scores.objective == "masked" and np.isfinite(scores.logprobs).all() and len(scores.words) == 3


def test_temperature_sharpens_and_flattens(causal):
    logp = cloze.score_blank(causal.model, causal.tokenizer, "猫坐在＿上").logprobs
    cold, warm = cloze.apply_temperature(logp, 0.3), cloze.apply_temperature(logp, 2.0)
    assert cloze.entropy(cold) < cloze.entropy(cloze.apply_temperature(logp, 1.0)) < cloze.entropy(warm)
    assert cloze.entropy(np.ones(4) / 4) == pytest.approx(np.log(4))


def test_blank_marks_and_bad_input(tiny):
    model, tok = tiny
    assert cloze.find_blank("猫坐在_上") == 3 and cloze.find_blank("猫坐在＿上") == 3
    assert len(cloze.score_blank(model, tok, "猫坐在＿＿上", ["垫子"]).words) == 1  # a run is one blank
    with pytest.raises(ValueError, match="no blank"):
        cloze.score_blank(model, tok, "猫坐在垫子上")
    with pytest.raises(ValueError, match="one blank"):
        cloze.score_blank(model, tok, "＿坐在＿上")
    with pytest.raises(ValueError, match="no candidate"):
        cloze.score_blank(model, tok, "猫坐在＿上", ["", " "])


def test_longer_than_the_context_keeps_the_blank_in_the_window(tiny):
    model, tok = tiny
    scores = cloze.score_blank(model, tok, "猫" * 300 + "坐在＿上" + "狗" * 300, ["垫子", "灯泡"])
    assert scores.dropped > 0 and len(scores.words) == 2
    assert cloze.fill_blank(model, tok, "＿", top=3)  # a blank alone still works (scored after a newline)


def test_generate_is_seeded_and_gives_each_token_its_probability(tiny):
    model, tok = tiny
    a = cloze.generate(model, tok, "猫坐在", n=12, temperature=1.0, top_k=5, seed=3)
    b = cloze.generate(model, tok, "猫坐在", n=12, temperature=1.0, top_k=5, seed=3)
    assert a == b and len(a) == 12 and all(0 < p <= 1 for _, p in a)
    greedy = cloze.generate(model, tok, "猫坐在", n=6, temperature=1.0, top_k=1, seed=0)
    assert greedy == cloze.generate(model, tok, "猫坐在", n=6, temperature=1.0, top_k=1, seed=99)


def test_generated_bpe_pieces_show_each_character_once(zh_world):
    """A BPE token may hold part of a character: it shows as "" and the next piece completes it."""
    tok = train_tokenizer("bpe", zh_world.train_text[:5000], vocab_size=300)
    ids = tok.encode("猫🐱坐")
    pieces, shown = [], ""
    for k in range(1, len(ids) + 1):
        piece = cloze._shown_piece(tok, ids[:k], shown)
        shown += piece
        pieces.append(piece)
    assert "".join(pieces) == "猫🐱坐" and "" in pieces
    assert pieces == tok.display_tokens("猫🐱坐")
