"""The cloze game's rules: the rounds (a blank and the words a learner picks from), how a pick is scored
against the model's ranking, and which words are held out of training for the round's animal."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Round:
    prompt: str  # a sentence with one blank (＿)
    animal: str  # the round's animal (held-out seats are looked up for it)
    options: tuple[str, ...]  # the words offered to the learner; every one is a world noun
    seat_blank: bool = False  # the blank is a seat: held-out (animal, seat) pairs matter here


ROUNDS: tuple[Round, ...] = (
    Round("猫坐在＿上", "猫", ("垫子", "沙发", "床", "电风扇", "灯泡", "鱼"), seat_blank=True),
    Round("狗睡在＿上", "狗", ("椅子", "草地", "骨头", "杯子", "床", "钥匙"), seat_blank=True),
    Round("猫喜欢吃＿。", "猫", ("鱼", "骨头", "米饭", "灯泡", "垫子", "苹果")),
    Round("兔子在＿里玩。", "兔子", ("花园", "厨房", "胡萝卜", "书", "森林", "沙发")),
)


@dataclass(frozen=True)
class PickScore:
    word: str
    probability: float  # the model's probability for the pick (0 when it is not in the ranking shown)
    rank: int  # 1 = the model's first choice; 0 = not in the ranking shown
    n: int  # how many words the ranking holds
    best: str  # the model's first choice
    best_probability: float
    points: int  # 100 × probability, rounded: the running score adds these

    @property
    def max_points(self) -> int:
        return round(100 * self.best_probability)


def score_pick(ranking: Sequence[tuple[str, float]], word: str) -> PickScore:
    """Score a pick against a ranking (word, probability), best first — the ranking the panel shows."""
    if not ranking:
        raise ValueError("no ranking to score against: the model has not answered yet")
    words = [w for w, _ in ranking]
    best, best_p = ranking[0]
    if word in words:
        rank = words.index(word) + 1
        p = float(ranking[rank - 1][1])
    else:
        rank, p = 0, 0.0
    return PickScore(
        word,
        p,
        rank,
        len(ranking),
        best,
        float(best_p),
        round(100 * p),
    )


def held_out_seats(animal: str, lang: str = "zh", seed: int = 0) -> tuple[str, ...]:
    """The seats never put with `animal` in the training text (core.data.world holds them out)."""
    from core.data.world import held_out_pairs

    return tuple(s for a, s in held_out_pairs(lang, seed) if a == animal)


def held_out_notes(
    ranking: Sequence[tuple[str, float]], animal: str, seats: Sequence[str], lang: str = "zh", seed: int = 0
) -> list[tuple[str, str]]:
    """(zh, en) notes for held-out seats the model ranks below most of the other seats: the honest reason."""
    from core.lesson.verdicts import held_out_note

    words = [w for w, _ in ranking]
    held = held_out_seats(animal, lang, seed)
    others = sorted(words.index(s) + 1 for s in seats if s in words and s not in held)
    notes = []
    for word in held:
        if word not in words or not others:
            continue
        rank = words.index(word) + 1
        if rank > others[len(others) // 2]:
            notes.append(held_out_note(word, rank, len(words), animal))
    return notes
