"""Nearest neighbours and semantic axes, computed in the model's full embedding space (never in a 2-D
picture, which distorts distances).

An axis is two groups of words, A and B. A word's score is its position along mean(A) − mean(B), scaled
so that mean(A) lands on +1 and mean(B) on −1 (the midpoint on 0), then clipped to [−1, 1]. A word that
is itself in a group is scored on the axis built without it: otherwise it would be measured partly
against itself and score high for free."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


def cosine_neighbours(
    query: np.ndarray, vectors: np.ndarray, names: Sequence[str], k: int, exclude: str | None = None
) -> list[tuple[str, float]]:
    """The k rows of `vectors` most similar to `query` by cosine, best first, skipping `exclude`."""
    v = np.asarray(vectors, dtype=np.float64)
    q = np.asarray(query, dtype=np.float64)
    sims = v @ q / (np.linalg.norm(v, axis=1) * np.linalg.norm(q) + 1e-12)
    out = []
    for i in np.argsort(-sims, kind="stable"):
        if names[i] == exclude:
            continue
        out.append((names[i], float(sims[i])))
        if len(out) == k:
            break
    return out


@dataclass(frozen=True)
class Axis:
    """Two groups of words; the name is what a person reads as the column header (动物 ↔ 物品)."""

    name: str
    a: tuple[str, ...]
    b: tuple[str, ...]


@dataclass(frozen=True)
class Score:
    """One cell: the score (None when it cannot be computed) and why not, or a note such as
    "left out of group A"."""

    value: float | None
    reason: str = ""  # machine-readable: "", "left_out_a", "left_out_b", "unknown_word", "empty_a", …
    detail: str = ""  # the word(s) concerned


def axis_score(v: np.ndarray, a_vectors: np.ndarray, b_vectors: np.ndarray) -> float:
    """Projection of `v` on mean(A) − mean(B), with mean(A) → +1 and mean(B) → −1, clipped to [−1, 1]."""
    a, b = np.mean(a_vectors, axis=0), np.mean(b_vectors, axis=0)
    d = a - b
    denom = float(d @ d)
    if denom < 1e-20:
        return 0.0  # the two groups sit at one point: the axis has no direction
    raw = 2.0 * float((np.asarray(v, dtype=np.float64) - (a + b) / 2) @ d) / denom
    return float(np.clip(raw, -1.0, 1.0))


def score_word(word: str, axis: Axis, lookup: Mapping[str, np.ndarray]) -> Score:
    """`word` on `axis`, with `lookup` mapping every known word to its vector."""
    missing = [w for w in (word, *axis.a, *axis.b) if w not in lookup]
    if word not in lookup:
        return Score(None, "unknown_word", word)
    if missing:
        return Score(None, "unknown_word", "、".join(missing))
    a = [w for w in axis.a if w != word]
    b = [w for w in axis.b if w != word]
    if not a:
        return Score(None, "empty_a")
    if not b:
        return Score(None, "empty_b")
    reason = "left_out_a" if word in axis.a else "left_out_b" if word in axis.b else ""
    value = axis_score(lookup[word], np.stack([lookup[w] for w in a]), np.stack([lookup[w] for w in b]))
    return Score(value, reason, word if reason else "")


def score_table(
    words: Sequence[str], axes: Sequence[Axis], lookup: Mapping[str, np.ndarray]
) -> dict[str, dict[str, Score]]:
    """{word: {axis name: Score}} for every word and axis."""
    return {w: {ax.name: score_word(w, ax, lookup) for ax in axes} for w in words}


# The axes a world model starts with: (zh name, en name, categories of A, categories of B).
DEFAULT_AXES = (
    ("动物 ↔ 物品", "animal ↔ thing", ("animal",), ("object", "seat")),
    ("能吃 ↔ 不能吃", "edible ↔ inedible", ("food",), ("object", "seat")),
    ("能坐 ↔ 不能坐", "seat ↔ not a seat", ("seat",), ("object", "food")),
)
DEFAULT_WORDS = {
    "zh": ("猫", "垫子", "狗", "沙发", "鱼", "灯泡"),
    "en": ("cat", "mat", "dog", "sofa", "fish", "bulb"),
}

# The article's illustrative "personality tags" (made up by its author, not measured), per axis name.
ARTICLE_TAGS = {
    "动物 ↔ 物品": {"猫": "动物 0.9 · 物品 −0.8", "垫子": "动物 −0.9 · 物品 0.8"},
    "animal ↔ thing": {"cat": "animal 0.9 · object −0.8", "mat": "animal −0.9 · object 0.8"},
}


def default_axes(categories: Mapping[str, str], lang: str) -> list[Axis]:
    """The default axes from a world's categories (word → category id); empty for a corpus without them."""
    out = []
    for zh, en, cats_a, cats_b in DEFAULT_AXES:
        a = tuple(sorted(w for w, c in categories.items() if c in cats_a))
        b = tuple(sorted(w for w, c in categories.items() if c in cats_b))
        if a and b:
            out.append(Axis(zh if lang == "zh" else en, a, b))
    return out


def neighbour_purity(vectors: np.ndarray, categories: Sequence[str]) -> float:
    """Share of words whose cosine-nearest other word has the same category (as the trainer's probe)."""
    v = np.asarray(vectors, dtype=np.float64)
    if len(v) < 2:
        return 0.0
    v = v / (np.linalg.norm(v, axis=1, keepdims=True) + 1e-8)
    sim = v @ v.T
    np.fill_diagonal(sim, -np.inf)
    cats = np.asarray(categories)
    return float((cats[sim.argmax(1)] == cats).mean())


def purity_chance(categories: Sequence[str]) -> float:
    """The purity a random nearest neighbour would give: mean share of the other words in one's category."""
    cats = list(categories)
    n = len(cats)
    if n < 2:
        return 0.0
    return float(np.mean([(cats.count(c) - 1) / (n - 1) for c in cats]))
