"""Tokenizers round-trip, flag what they cannot see, show whole characters and survive save/load."""

from __future__ import annotations

import json
import time
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.data.world import world_corpus
from core.model.tokenizer import (
    MASK,
    UNK,
    Tokenizer,
    TokenizerError,
    tokenizer_from_dict,
    train_tokenizer,
)

SAMPLES = [
    "猫坐在垫子上，它很舒服。它是猫。",
    "the cat sat on the mat 🐱🐈‍⬛ — naïve 𠀀",
    "a\n\tb  c\r\n",
    "",
]


@cache
def text(lang: str) -> str:
    return world_corpus(lang, 0, 30_000).train_text


@cache
def tok(kind: str, lang: str = "zh") -> Tokenizer:
    return train_tokenizer(kind, text(lang), 400)


def test_specials_have_fixed_ids():
    for t in (tok("char"), tok("bpe"), tok("bpe", "en")):
        assert (t.unk_id, t.mask_id) == (0, 1)
        assert (t.id_of(UNK), t.id_of(MASK)) == (0, 1)
        assert t.decode([1]) == MASK


def test_char_round_trip_and_vocab():
    t = tok("char")
    s = text("zh")
    assert t.kind == "char"
    assert t.vocab_size == len(set(s)) + 2
    assert t.decode(t.encode(s)) == s
    assert t.unknown_chars(s) == []
    assert t.id_of("猫") is not None and t.id_of("垫子") is None


def test_char_flags_unknown_characters_instead_of_dropping_them():
    t = tok("char")
    s = "猫🐱坐在龘上🐱"
    ids = t.encode(s)
    assert len(ids) == len(s)
    assert ids.count(t.unk_id) == 3
    assert t.unknown_chars(s) == ["🐱", "龘"]
    assert t.display_tokens(s) == ["猫", UNK, "坐", "在", UNK, "上", UNK]


def test_char_encoding_is_fast():
    t = tok("char")
    big = world_corpus("zh", 0, 500_000).train_text
    start = time.perf_counter()
    ids = t.encode(big)
    assert time.perf_counter() - start < 0.5
    assert len(ids) == len(big)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_bpe_round_trips_the_corpus(lang):
    t = tok("bpe", lang)
    assert t.kind == "bpe" and t.vocab_size == 400
    assert t.decode(t.encode(text(lang))) == text(lang)
    assert t.unknown_chars("🐱龘") == []


def test_bpe_keeps_frequent_english_words_whole():
    c = world_corpus("en", 0, 200_000)
    t = train_tokenizer("bpe", c.train_text, 600)
    split = [w for w in c.categories if t.id_of(" " + w) is None]
    assert split == []
    assert len(t.encode(" cat")) == 1


@settings(max_examples=100, deadline=None)
@given(st.text())
def test_bpe_round_trips_any_unicode(s):
    t = tok("bpe")
    assert t.decode(t.encode(s)) == s


@settings(max_examples=50, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8")))
def test_display_tokens_align_and_hold_whole_characters(s):
    for t in (tok("bpe"), tok("char")):
        ids, offsets = t.encode_with_offsets(s)
        shown = t.display_tokens(s)
        assert len(shown) == len(ids) == len(offsets) == len(t.encode(s))
        assert all(0 <= a < b <= len(s) for a, b in offsets)
        if t.kind == "bpe":
            assert "".join(shown) == s  # every character shown exactly once


@pytest.mark.parametrize("s", SAMPLES)
def test_display_tokens_never_show_replacement_characters(s):
    for t in (tok("char"), tok("bpe"), tok("bpe", "en")):
        shown = t.display_tokens(s)
        assert len(shown) == len(t.encode(s))
        assert not any("\ufffd" in piece for piece in shown)


def test_bpe_offsets_cover_the_tokens():
    t = tok("bpe", "en")
    s = "the cat sat on the mat"
    ids, offsets = t.encode_with_offsets(s)
    assert [s[a:b] for a, b in offsets] == t.display_tokens(s)
    assert t.display_tokens(s)[1] == " cat"


def test_bpe_splits_a_rare_character_but_shows_it_once():
    t = tok("bpe", "en")  # English-trained: Chinese and emoji fall back to bytes
    shown = t.display_tokens("🐱")
    assert len(shown) > 1 and shown[-1] == "🐱" and all(p == "" for p in shown[:-1])
    _, offsets = t.encode_with_offsets("🐱")
    assert set(offsets) == {(0, 1)}


def test_lone_surrogate_is_an_error_not_a_crash():
    with pytest.raises(TokenizerError):
        tok("bpe").encode("a\ud800b")


@pytest.mark.parametrize("kind", ["char", "word", "bpe"])
def test_dict_round_trip(kind):
    t = tok(kind)
    d = json.loads(json.dumps(t.to_dict()))
    u = tokenizer_from_dict(d)
    assert type(u) is type(t) and u.vocab_size == t.vocab_size
    for s in SAMPLES:
        assert u.encode(s) == t.encode(s)
        assert u.display_tokens(s) == t.display_tokens(s)


def test_bpe_training_is_deterministic():
    assert tok("bpe").to_dict() == train_tokenizer("bpe", text("zh"), 400).to_dict()


GARBAGE = [
    None,
    [],
    "char",
    {},
    {"kind": "word"},
    {"kind": "char"},
    {"kind": "char", "vocab": "abc"},
    {"kind": "char", "vocab": ["a", "b"]},
    {"kind": "char", "vocab": [UNK, MASK, "ab"]},
    {"kind": "char", "vocab": [UNK, MASK, "a", "a"]},
    {"kind": "char", "vocab": [UNK, MASK, 3]},
    {"kind": "char", "version": 99, "vocab": [UNK, MASK]},
    {"kind": "bpe"},
    {"kind": "bpe", "tokenizer_json": 5},
    {"kind": "bpe", "tokenizer_json": "{not json"},
    {"kind": "bpe", "tokenizer_json": "{}"},
]


@pytest.mark.parametrize("d", GARBAGE)
def test_garbage_dict_is_a_tokenizer_error(d):
    with pytest.raises(TokenizerError):
        tokenizer_from_dict(d)


def test_bpe_dict_with_swapped_specials_is_rejected():
    d = tok("bpe").to_dict()
    blob = json.loads(d["tokenizer_json"])
    vocab = blob["model"]["vocab"]
    vocab[UNK], vocab[MASK] = vocab[MASK], vocab[UNK]
    for added in blob["added_tokens"]:
        added["id"] = 1 - added["id"]
    with pytest.raises(TokenizerError):
        tokenizer_from_dict({"kind": "bpe", "tokenizer_json": json.dumps(blob)})


def test_bad_training_requests():
    with pytest.raises(TokenizerError):
        train_tokenizer("sentencepiece", "abc")
    with pytest.raises(TokenizerError):
        train_tokenizer("char", "")
    with pytest.raises(TokenizerError):
        train_tokenizer("bpe", "abc", 100)


def test_out_of_range_ids_are_an_error():
    for t in (tok("char"), tok("bpe")):
        with pytest.raises(TokenizerError):
            t.decode([t.vocab_size])
        with pytest.raises(TokenizerError):
            t.decode([-1])


def test_bpe_sees_no_unbounded_word_and_a_one_word_text_trains_quickly():
    """The tester's 39 MB one-"word" corpus hung BPE training; pieces cap every run of non-space
    characters at MAX_WORD_CHARS, and joined they are the text again."""
    from core.model.tokenizer import MAX_WORD_CHARS, bounded_pieces

    text = "ab cd\n" + "xyz" * 400_000 + " ef\n猫坐在垫子上。\n"
    pieces = list(bounded_pieces(text, chars_per_piece=100_000))
    assert "".join(pieces) == text
    assert max(len(w) for p in pieces for w in p.split()) <= MAX_WORD_CHARS
    t0 = time.perf_counter()
    tok = train_tokenizer("bpe", text, 300)
    assert tok.decode(tok.encode("xyzxyz ef")) == "xyzxyz ef"
    print(f"1.2 M-character word: BPE trained in {time.perf_counter() - t0:.1f} s")


@settings(max_examples=200, deadline=None)
@given(st.text(), st.text())
def test_char_encode_array_equals_encode_on_any_text(vocab_text, s):
    """The vectorised path a run uses gives the per-character ids exactly (unknowns, lone surrogates too)."""
    for t in (tok("char"), train_tokenizer("char", vocab_text + "猫")):
        ids = t.encode_array(s)
        assert ids.dtype == np.int64 and ids.tolist() == t.encode(s)
