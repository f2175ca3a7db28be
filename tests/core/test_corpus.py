"""The world corpus keeps its promises (held-out pairs, balanced probes, exact spans); user files fail
with one clear line."""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import replace
from functools import cache

import pytest

from core.data.corpus import CATEGORY_NAMES, Corpus, CorpusError
from core.data.files import MAX_FILE_BYTES, file_corpus
from core.data.world import LINE_MIX, SINGLE_TEMPLATES, _world_corpus, world_corpus

SMALL = 60_000


@cache
def world(lang: str = "zh", seed: int = 0, n: int = SMALL) -> Corpus:
    return world_corpus(lang, seed, n)


def lines(c: Corpus) -> list[str]:
    return (c.train_text + c.val_text).splitlines()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_deterministic_for_a_seed_and_different_for_another(lang):
    a = world_corpus(lang, 3, 20_000)
    b = world_corpus(lang, 3, 20_000)
    c = world_corpus(lang, 4, 20_000)
    assert a == b
    assert a.train_text != c.train_text
    assert {p.text for p in a.probes} != {p.text for p in c.probes}  # another seed holds out other pairs


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_sizes(lang):
    c = world(lang)
    assert SMALL <= len(c.train_text) < SMALL + 200
    assert 0.03 < len(c.val_text) / len(c.train_text) < 0.08
    assert c.val_text not in c.train_text
    assert set(c.categories.values()) == set(CATEGORY_NAMES)
    assert 100 <= len(c.probes) <= 200


def test_default_size_is_in_range():
    c = world_corpus()
    assert 300_000 <= len(c.train_text) <= 600_000


def test_bad_arguments():
    with pytest.raises(CorpusError):
        world_corpus("fr")
    with pytest.raises(CorpusError):
        world_corpus("zh", 0, 10)


def _mentions(line: str, word: str, lang: str) -> bool:
    return word in line if lang == "zh" else f" {word} " in f" {line.replace(',', ' ').replace('.', ' ')} "


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_probe_pairs_never_share_a_line(lang):
    c = world(lang)
    pairs = {(p.answer.strip(), p.distractor_answer.strip()) for p in c.probes}
    pairs |= {(b, a) for a, b in pairs}
    assert (c.showcase.answer.strip(), c.showcase.distractor_answer.strip()) in pairs
    for line in lines(c):
        present = [w for w in c.categories if _mentions(line, w, lang)]
        for i, x in enumerate(present):
            for y in present[i + 1 :]:
                assert (x, y) not in pairs, line


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_showcase_is_held_out(lang):
    c = world(lang)
    for probe in (c.showcase, c.showcase_inanimate):
        assert probe.text not in c.train_text
        assert probe in c.probes
    if lang == "zh":
        assert c.showcase.text == "猫坐在垫子上，它很舒服。它是"
        assert (c.showcase.answer, c.showcase.distractor_answer) == ("猫", "垫子")
        assert c.showcase_inanimate.text == "猫坐在垫子上，它很软。它是"
        assert c.showcase_inanimate.answer == "垫子"
    else:
        assert c.showcase.text == "the cat sat on the mat, it was comfortable, that"
        assert (c.showcase.answer, c.showcase_inanimate.answer) == (" cat", " mat")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_probes_balanced_across_kinds_and_orders(lang):
    c = world(lang)
    # order: is the animal mentioned before the seat?
    counts = Counter(
        (p.antecedent_is_animal, (p.antecedent_span < p.distractor_span) == p.antecedent_is_animal)
        for p in c.probes
    )
    assert len(counts) == 4
    assert max(counts.values()) == min(counts.values())
    assert len(set(p.text for p in c.probes)) == len(c.probes)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_spans_point_at_the_words(lang):
    c = world(lang)
    pronoun = "它" if lang == "zh" else "it"
    for p in c.probes:
        assert p.text[slice(*p.pronoun_span)] == pronoun
        assert pronoun not in p.text[: p.pronoun_span[0]].split() and "它" not in p.text[: p.pronoun_span[0]]
        assert p.text[slice(*p.antecedent_span)] == p.answer.strip()
        assert p.text[slice(*p.distractor_span)] == p.distractor_answer.strip()
        kind = c.categories[p.answer.strip()]
        assert kind == ("animal" if p.antecedent_is_animal else "seat")
        assert p.text.endswith("。它是" if lang == "zh" else ", that")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_probe_answer_is_a_training_answer_elsewhere(lang):
    c = world(lang)
    end = "。" if lang == "zh" else "."
    tail = "它是" if lang == "zh" else ", that"
    for p in c.probes:
        assert f"{tail}{p.answer}{end}" in c.train_text
        assert f"{tail}{p.distractor_answer}{end}" in c.train_text


def test_entity_first_characters_identify_the_entity():
    c = world("zh")
    firsts = [w[0] for w in c.categories]
    assert len(set(firsts)) == len(firsts)
    words = sorted(c.categories, key=len, reverse=True)
    assert not any(a != b and a in b for a in words for b in words)  # no word hides inside another
    rest = c.train_text
    for w in words:
        rest = rest.replace(w, "")
    assert not set(firsts) & set(rest), "a template character doubles as an entity's first character"


def test_after_it_is_only_entities_follow():
    c = world("zh")
    text = c.train_text
    i = text.find("。它是")
    while i >= 0:
        j = text.index("。", i + 3)
        assert text[i + 3 : j] in c.categories
        i = text.find("。它是", j)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_cloze_only_seats_follow_sat_on(lang):
    c = world(lang)
    check = c.cloze_checks[0]
    seats = {w for w, k in c.categories.items() if k == "seat"}
    assert {g.strip() for g in check.good} == seats
    assert {"灯泡", "电风扇"} <= set(check.bad) or {" bulb", " fan"} <= set(check.bad)
    for bad in check.bad:
        assert check.prompt + bad not in c.train_text
    assert any(check.prompt + g in c.train_text for g in check.good)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_english_words_are_one_lowercase_word(lang):
    c = world(lang)
    if lang == "en":
        assert all(w.isalpha() and w.islower() for w in c.categories)
        assert c.train_text == c.train_text.lower()


# --- file_corpus -------------------------------------------------------------------------------------


def _one_line_error(path, **kw) -> str:
    with pytest.raises(CorpusError) as e:
        file_corpus(path, **kw)
    message = str(e.value)
    assert message and "\n" not in message
    return message


def test_file_corpus_reads_and_splits(tmp_path):
    p = tmp_path / "story.txt"
    text = "".join(f"line {i} of a small story about a cat.\n" for i in range(100))
    p.write_text(text, encoding="utf-8")
    c = file_corpus(p)
    assert c.train_text + c.val_text == text
    assert 0.05 < len(c.val_text) / len(text) < 0.15
    assert c.lang == "en" and c.source == str(p)
    assert c.probes == () and c.cloze_checks == () and c.showcase is None and c.showcase_inanimate is None
    p.write_text("猫坐在垫子上，它很舒服。" * 20, encoding="utf-8")
    assert file_corpus(p).lang == "zh"


def test_file_corpus_missing(tmp_path):
    assert "not found" in _one_line_error(tmp_path / "nope.txt")


def test_file_corpus_folder(tmp_path):
    assert "folder" in _one_line_error(tmp_path)


def test_file_corpus_empty(tmp_path):
    p = tmp_path / "empty.txt"
    p.write_bytes(b"")
    assert "empty" in _one_line_error(p)


def test_file_corpus_binary(tmp_path):
    p = tmp_path / "a.bin"
    p.write_bytes(b"hello world" * 10 + b"\0\1\2")
    assert "offset 110" in _one_line_error(p)


def test_file_corpus_not_utf8(tmp_path):
    p = tmp_path / "latin1.txt"
    p.write_bytes("café ".encode() * 20 + "café".encode("latin-1"))
    assert "UTF-8" in _one_line_error(p) and "offset 123" in _one_line_error(p)


def test_file_corpus_too_short(tmp_path):
    p = tmp_path / "short.txt"
    p.write_text("   a cat   \n\n", encoding="utf-8")
    assert "5 characters" in _one_line_error(p)
    p.write_text("x" * 64, encoding="utf-8")
    assert file_corpus(p).train_text


def test_file_corpus_oversize_checked_before_reading(tmp_path, monkeypatch):
    p = tmp_path / "huge.txt"
    with open(p, "wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)  # sparse: no 50 MB written
    monkeypatch.setattr("builtins.open", lambda *a, **k: pytest.fail("read an oversize file"))
    assert "50 MB" in _one_line_error(p)


def test_file_corpus_path_with_newline_still_one_line(tmp_path):
    # A missing file whose name holds a newline (legal on Linux and macOS) must still give one line.
    assert "\n" not in _one_line_error(tmp_path / "a\nb.txt")


def test_corpus_is_frozen():
    c = world("zh")
    with pytest.raises(AttributeError):
        c.lang = "en"  # type: ignore[misc]
    assert replace(c, lang="en").lang == "en"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_line_mix_follows_the_languages_shares(lang):
    """English carries more coreference units and single-noun lines (it learns to copy more slowly)."""
    lines = world_corpus(lang, 0, 100_000).train_text.splitlines()
    # a coreference line vs a single-noun line ("猫在这里。它是猫。", "there is a cat. it is that cat.")
    coref_mark, single_mark = ("，它", "。它是") if lang == "zh" else (", that ", ". it is that ")
    single_share, coref_share = LINE_MIX[lang][:2]
    coref = sum(coref_mark in line for line in lines) / len(lines)
    single = sum(single_mark in line and coref_mark not in line for line in lines) / len(lines)
    assert abs(coref - coref_share) < 0.03
    assert abs(single - single_share) < 0.03


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_single_noun_lines_name_one_animal_or_seat_twice(lang, monkeypatch):
    """Chinese has share 0 today; its template must still work if the share is raised."""
    monkeypatch.setitem(LINE_MIX, lang, (1.0, 0.0, 0.0, 0.0))
    _world_corpus.cache_clear()  # the text is cached per (lang, seed, size); this one is drawn with the patch
    c = world_corpus(lang, 0, 2_000)
    _world_corpus.cache_clear()
    template = "(.+?)".join(map(re.escape, SINGLE_TEMPLATES[lang].split("{x}")))
    for line in c.train_text.splitlines():
        first, second = re.fullmatch(template, line).groups()
        assert first == second and c.categories[first] in ("animal", "seat")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_file_is_called_utf16_not_binary(tmp_path, encoding):
    path = tmp_path / "t.txt"
    path.write_bytes(("The cat sat on the mat. 猫坐在垫子上。\n" * 20).encode(encoding))
    with pytest.raises(CorpusError, match="UTF-16"):
        file_corpus(path)


def test_a_pipe_as_corpus_is_refused_instead_of_blocking(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(CorpusError, match="pipe"):
        file_corpus(fifo)
