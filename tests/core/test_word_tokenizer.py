"""The English world's word tokenizer: one token per word of the world, every world text round-trips,
other text is reported word by word rather than silently mangled, and a user's own file still gets BPE."""

from __future__ import annotations

from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.data.corpus import Corpus
from core.data.world import world_corpus
from core.model.tokenizer import (
    UNK,
    TokenizerError,
    WordTokenizer,
    token_label,
    tokenizer_from_dict,
    train_tokenizer,
)
from core.training.trainer import auto_tokenizer


@cache
def world(seed: int = 0) -> Corpus:
    return world_corpus("en", seed)  # full size: a run builds its vocabulary from all of it


@cache
def tok() -> WordTokenizer:
    return train_tokenizer("word", world().train_text)


def test_one_token_per_word_and_a_small_vocabulary():
    t = tok()
    assert t.display_tokens("the cat sat on the mat, it was soft.") == [
        "the", " cat", " sat", " on", " the", " mat", ",", " it", " was", " soft", ".",
    ]  # fmt: skip
    assert t.vocab_size < 130  # the world's ~110 word pieces, where BPE keeps 600
    assert t.id_of(" cat") is not None and t.id_of(" cat sat") is None


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_every_text_of_the_world_round_trips(seed):
    """Built from a seed's training text as a run builds it, the vocabulary covers that seed's validation
    text, probes, answers and cloze prompts: no <unk> anywhere."""
    c = world(seed)
    t = train_tokenizer("word", c.train_text)
    texts = [c.train_text, c.val_text]
    texts += [p.text + p.answer for p in c.probes] + [p.text + p.distractor_answer for p in c.probes]
    texts += [ch.prompt + w for ch in c.cloze_checks for w in ch.good + ch.bad]
    for s in texts:
        ids = t.encode(s)
        assert t.decode(ids) == s
        assert t.unk_id not in ids and t.unknown_chars(s) == []


def test_offsets_cover_the_text_and_spans_find_the_nouns():
    t, probe = tok(), world().probes[0]
    ids, offsets = t.encode_with_offsets(probe.text)
    assert len(ids) == len(offsets) and offsets[0][0] == 0 and offsets[-1][1] == len(probe.text)
    assert all(a[1] == b[0] for a, b in zip(offsets, offsets[1:], strict=False))
    start, end = probe.antecedent_span
    assert [probe.text[a:b] for a, b in offsets if a < end and b > start] == [" " + probe.text[start:end]]


def test_other_text_reports_its_unknown_words():
    t = tok()
    s = "The cat sat on a zebra! 猫"
    ids = t.encode(s)
    assert ids.count(t.unk_id) == 4
    assert t.unknown_chars(s) == ["The", "zebra", "!", "猫"]
    assert t.display_tokens(s)[:2] == [UNK, " cat"]
    assert t.decode(ids).startswith(UNK + " cat")


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_text_splits_into_pieces_that_join_back(s):
    """Whatever the text, the pieces tile it: known words encode, the rest are <unk> at their place."""
    t = train_tokenizer("word", s) if s else tok()
    assert t.decode(t.encode(s)) == s
    _, offsets = t.encode_with_offsets(s)
    assert "".join(s[a:b] for a, b in offsets) == s


def test_every_token_has_a_readable_label():
    """The trainer labels every token for the word-vector timeline; a word token is its own piece."""
    t = tok()
    labels = [token_label(t, i) for i in range(t.vocab_size)]
    assert labels[t.id_of(" cat")] == " cat" and labels[:2] == [UNK, "[MASK]"] and all(labels)


def test_saved_and_loaded():
    t = tok()
    u = tokenizer_from_dict(t.to_dict())
    assert isinstance(u, WordTokenizer) and u.encode(world().val_text) == t.encode(world().val_text)
    for bad in (
        {"kind": "word"},
        {"kind": "word", "vocab": ["x", "y"]},
        {"kind": "word", "vocab": [UNK, "[MASK]", "a b"]},
    ):
        with pytest.raises(TokenizerError):
            tokenizer_from_dict(bad)


def test_the_english_world_reads_words_and_a_users_file_reads_bpe(tmp_path):
    from core.data.files import file_corpus

    path = tmp_path / "mine.txt"
    path.write_text("Some English text of my own, with words the world never uses. " * 4)
    assert auto_tokenizer(world()) == "word"
    assert auto_tokenizer(file_corpus(path)) == "bpe"
    assert auto_tokenizer(world_corpus("zh", 0, 5_000)) == "char"


def test_the_english_window_starts_on_the_english_model(tmp_path, monkeypatch):
    from core import resources

    monkeypatch.setenv("LLM_EXPLORER_MODELS", str(tmp_path))
    for name in ("cloze", "default", "default_en"):
        (tmp_path / f"{name}.safetensors").write_bytes(b"")
        (tmp_path / f"{name}.json").write_text("{}")
    assert resources.startup_model("zh").name == "default.safetensors"
    assert resources.startup_model("en").name == "default_en.safetensors"
    assert resources.bundled_model("default", "en").name == "default_en.safetensors"
    assert resources.bundled_model("cloze", "en").name == "cloze.safetensors"  # no English one: the same
    (tmp_path / "default_en.safetensors").unlink()
    assert resources.startup_model("en").name == "default.safetensors"
