"""What a corpus is, wherever its text came from: the text split for training and validation, and for
the generated world the probes that test what a model learned from it."""

from __future__ import annotations

from dataclasses import dataclass

CATEGORY_NAMES: dict[str, tuple[str, str]] = {
    "animal": ("动物", "animal"),
    "seat": ("坐具", "seat"),
    "object": ("物品", "object"),
    "food": ("食物", "food"),
    "place": ("场所", "place"),
}


class CorpusError(ValueError):
    """A corpus that cannot be used; the message is one line naming the problem."""


@dataclass(frozen=True)
class CorefProbe:
    text: str  # everything up to the answer: "猫坐在垫子上，它很舒服。它是"
    answer: str  # what follows `text` in the corpus convention: "猫" (en: " cat")
    distractor_answer: str  # the other noun in the same form: "垫子" (en: " mat")
    pronoun_span: tuple[int, int]  # char span of the first pronoun (它 / it) in text
    antecedent_span: tuple[int, int]  # char span of the antecedent's word in the first clause
    distractor_span: tuple[int, int]  # char span of the distractor's word
    antecedent_is_animal: bool  # True when the predicate describes an animal (很舒服), False for 很软


@dataclass(frozen=True)
class ClozeCheck:
    prompt: str  # "猫坐在" (en: "the cat sat on the")
    good: tuple[str, ...]  # words that fit the blank, in corpus form ("垫子", …) / (" mat", …)
    bad: tuple[str, ...]  # words that never follow the prompt ("灯泡", …) / (" bulb", …)


@dataclass(frozen=True)
class Corpus:
    lang: str  # "zh" or "en"
    source: str  # "world" or the file path
    train_text: str
    val_text: str
    probes: tuple[CorefProbe, ...]  # held-out coreference probes (empty for a user file)
    categories: dict[str, str]  # entity word (no leading space) -> category id
    cloze_checks: tuple[ClozeCheck, ...]  # empty for a user file
    showcase: CorefProbe | None  # the article's sentence, animate reading (→ 猫)
    showcase_inanimate: CorefProbe | None  # the same sentence with 很软 (→ 垫子)
