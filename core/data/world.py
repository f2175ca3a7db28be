"""The generated training text: a small deterministic *world* rendered into Chinese or English.

The world is built so a tiny model can learn three things the article talks about: a pronoun resolved
by meaning (猫坐在垫子上，它很舒服 → 猫), category structure (animals used like animals), and a cloze
(after 猫坐在 come things you can sit on). Some (animal, seat) pairs are held out of all text so the
probes test generalisation, not recall.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import cache, lru_cache

from core.data.corpus import CATEGORY_NAMES, ClozeCheck, CorefProbe, Corpus, CorpusError

# --- the world ------------------------------------------------------------------------------------
# Every Chinese entity starts with a character no other entity (and no template) uses, so the top
# next character after 它是 names one entity; no entity is a substring of another.

# (zh, en, zh measure word used in 垫子上坐着一只猫)
ANIMALS = (
    ("猫", "cat", "只"), ("狗", "dog", "只"), ("兔子", "rabbit", "只"), ("鸭子", "duck", "只"),
    ("羊", "sheep", "只"), ("猪", "pig", "头"), ("马", "horse", "匹"), ("鸡", "chicken", "只"),
    ("牛", "cow", "头"), ("鹅", "goose", "只"),
)  # fmt: skip
SEATS = (
    ("垫子", "mat"), ("沙发", "sofa"), ("床", "bed"), ("椅子", "chair"), ("凳子", "stool"),
    ("地毯", "rug"), ("草地", "lawn"), ("长椅", "bench"), ("枕头", "pillow"), ("毯子", "blanket"),
)  # fmt: skip
# (zh, en, zh property, en property): a property of its own, so objects appear in varied contexts
OBJECTS = (
    ("灯泡", "bulb", "很亮", "is bright"), ("电风扇", "fan", "会转", "can spin"),
    ("杯子", "cup", "里有水", "has water in it"), ("书", "book", "很厚", "is thick"),
    ("钟", "clock", "会响", "can ring"), ("手机", "phone", "会响", "can ring"),
    ("锅", "pot", "很热", "is hot"), ("伞", "umbrella", "是蓝色的", "is blue"),
    ("刷子", "brush", "很硬", "is hard"), ("钥匙", "key", "很小", "is small"),
)  # fmt: skip
FOODS = (
    ("鱼", "fish"), ("骨头", "bone"), ("胡萝卜", "carrot"), ("米饭", "rice"), ("苹果", "apple"),
    ("香蕉", "banana"), ("虫子", "worm"), ("玉米", "corn"), ("面包", "bread"), ("蛋糕", "cake"),
)  # fmt: skip
PLACES = (
    ("花园", "garden"), ("厨房", "kitchen"), ("公园", "park"), ("农场", "farm"), ("院子", "yard"),
    ("森林", "forest"), ("学校", "school"), ("客厅", "lounge"), ("谷仓", "barn"), ("田野", "field"),
)  # fmt: skip
DIETS = {
    "猫": ("鱼",), "狗": ("骨头", "蛋糕"), "兔子": ("胡萝卜",), "鸭子": ("虫子", "玉米"),
    "羊": ("苹果", "玉米"), "猪": ("米饭", "香蕉"), "马": ("胡萝卜", "苹果"), "鸡": ("虫子", "米饭"),
    "牛": ("玉米",), "鹅": ("面包", "虫子"),
}  # fmt: skip

# Predicates that settle who 它 is: (zh, en past tense, en present tense)
ANIMATE = (
    ("很舒服", "was comfortable", "is comfortable"), ("很开心", "was happy", "is happy"),
    ("睡着了", "fell asleep", "is asleep"), ("饿了", "was hungry", "is hungry"),
    ("很累", "was tired", "is tired"),
)  # fmt: skip
INANIMATE = (
    ("很软", "was soft", "is soft"), ("很旧", "was old", "is old"), ("很干净", "was clean", "is clean"),
    ("很新", "was new", "is new"), ("很脏", "was dirty", "is dirty"),
)  # fmt: skip

# Coreference sentences up to the answer. {a} animal, {s} seat, {m} measure word, {p} predicate,
# {it} the pronoun whose span the probe reports. The token just before the answer must precede nothing
# else, as 是 after 它 nearly does: with "it is the cat" (' the' precedes every noun) the `default` preset
# copied the animal on 0.36 of held-out probes after 1,250 steps, with "it is that cat" on 1.00 (seed 0).
# English names the antecedent right after the predicate ("it was soft, that mat."): the predicate's kind
# sits two tokens before the answer, where first-layer heads of both kinds learn to yield to it; the mean
# of heads then picked the antecedent in 9 of 10 seeds at 1,200 steps, where ". it is that" was a lottery
# (docs/experiments.md, "English right dislocation").
COREF_TEMPLATES = {
    "zh": (
        ("{a}坐在{s}上，{it}{p}。它是", "{a}睡在{s}上，{it}{p}。它是", "{a}躺在{s}上，{it}{p}。它是"),
        (
            "{s}上坐着一{m}{a}，{it}{p}。它是",
            "{s}上睡着一{m}{a}，{it}{p}。它是",
            "{s}上躺着一{m}{a}，{it}{p}。它是",
        ),
    ),
    "en": (
        (
            "the {a} sat on the {s}, {it} {p}, that",
            "the {a} slept on the {s}, {it} {p}, that",
            "the {a} lay on the {s}, {it} {p}, that",
        ),
        (
            "on the {s} sat the {a}, {it} {p}, that",
            "on the {s} slept the {a}, {it} {p}, that",
            "on the {s} lay the {a}, {it} {p}, that",
        ),
    ),
}
SIT_TEMPLATES = {
    "zh": ("{a}坐在{s}上。", "{a}睡在{s}上。", "{a}躺在{s}上。"),
    "en": ("the {a} sat on the {s}.", "the {a} slept on the {s}.", "the {a} lay on the {s}."),
}
CLOZE_PROMPTS = {"zh": ("{a}坐在", "{a}睡在"), "en": ("the {a} sat on the", "the {a} slept on the")}
END = {"zh": "。", "en": "."}
PRONOUN = {"zh": "它", "en": "it"}
HOLDOUT_PER_ANIMAL = 2  # 2 of 10 seats per animal: 20 % of the (animal, seat) pairs


@dataclass(frozen=True)
class _World:
    """The world's words in one language, plus which (animal, seat) pairs are held out."""

    lang: str
    animals: tuple[str, ...]
    measures: tuple[str, ...]
    seats: tuple[str, ...]
    objects: tuple[str, ...]
    object_props: tuple[str, ...]
    foods: tuple[str, ...]
    places: tuple[str, ...]
    diets: tuple[tuple[int, ...], ...]  # food indices per animal
    held_out: tuple[tuple[int, int], ...]  # (animal index, seat index), showcase pair first

    def categories(self) -> dict[str, str]:
        groups = {"animal": self.animals, "seat": self.seats, "object": self.objects}
        groups |= {"food": self.foods, "place": self.places}
        return {word: cat for cat, words in groups.items() for word in words}


def _build_world(lang: str, seed: int) -> _World:
    """Pick the held-out pairs: a seeded shuffle of the seats, rotated so 猫 holds out 垫子."""
    i = 0 if lang == "zh" else 1
    foods_zh = [f[0] for f in FOODS]
    rng = random.Random(seed)
    order = list(range(1, len(SEATS)))
    rng.shuffle(order)
    order = [0, *order]  # animal 0 (猫/cat) holds out seat 0 (垫子/mat)
    held = tuple(
        (a, order[(a + k) % len(order)]) for a in range(len(ANIMALS)) for k in range(HOLDOUT_PER_ANIMAL)
    )
    return _World(
        lang=lang,
        animals=tuple(a[i] for a in ANIMALS),
        measures=tuple(a[2] for a in ANIMALS),
        seats=tuple(s[i] for s in SEATS),
        objects=tuple(o[i] for o in OBJECTS),
        object_props=tuple(o[2 + i] for o in OBJECTS),
        foods=tuple(f[i] for f in FOODS),
        places=tuple(p[i] for p in PLACES),
        diets=tuple(tuple(foods_zh.index(f) for f in DIETS[a[0]]) for a in ANIMALS),
        held_out=held,
    )


@cache
def _parse(template: str) -> tuple[tuple[str, str], ...]:
    """Split "{a}坐在{s}上" into (literal, placeholder name) pieces once; generation reuses them."""
    return tuple(
        (p, "") if i % 2 == 0 else ("", p[1:-1]) for i, p in enumerate(re.split(r"(\{\w+\})", template))
    )


def _fill(template: str, **words: str) -> tuple[str, dict[str, tuple[int, int]]]:
    """Format a template and record where each placeholder landed, so probe spans are exact."""
    out: list[str] = []
    spans: dict[str, tuple[int, int]] = {}
    pos = 0
    for literal, key in _parse(template):
        piece = words[key] if key else literal
        if key:
            spans.setdefault(key, (pos, pos + len(piece)))
        out.append(piece)
        pos += len(piece)
    return "".join(out), spans


def _answer(w: _World, word: str) -> str:
    """The answer as it follows the probe text: "猫" in Chinese, " cat" in English."""
    return word if w.lang == "zh" else " " + word


def _probe(w: _World, a: int, s: int, animate: bool, order: int, template: int, pred: int) -> CorefProbe:
    preds = ANIMATE if animate else INANIMATE
    p = preds[pred][0] if w.lang == "zh" else preds[pred][1]
    tpl = COREF_TEMPLATES[w.lang][order][template]
    text, spans = _fill(tpl, a=w.animals[a], s=w.seats[s], m=w.measures[a], p=p, it=PRONOUN[w.lang])
    animal, seat = _answer(w, w.animals[a]), _answer(w, w.seats[s])
    return CorefProbe(
        text=text,
        answer=animal if animate else seat,
        distractor_answer=seat if animate else animal,
        pronoun_span=spans["it"],
        antecedent_span=spans["a"] if animate else spans["s"],
        distractor_span=spans["s"] if animate else spans["a"],
        antecedent_is_animal=animate,
    )


def _held_out_probes(w: _World) -> tuple[CorefProbe, ...]:
    """Eight probes per held-out pair: both predicate kinds × both orders × two templates."""
    probes = []
    for n, (a, s) in enumerate(w.held_out):
        for animate in (True, False):
            for order in (0, 1):
                for v in (0, 1):
                    t = (n + v) % 3
                    pred = (2 * n + v) % len(ANIMATE)
                    probes.append(_probe(w, a, s, animate, order, t, pred))
    return tuple(probes)


def _fact(w: _World, rng: random.Random) -> str:
    """A plain fact: category-consistent, so words of one category share their contexts."""
    zh = w.lang == "zh"
    kind = rng.randrange(9)
    a = rng.randrange(len(w.animals))
    if kind == 0:  # 猫是动物。
        word, cat = rng.choice(list(w.categories().items()))
        name = CATEGORY_NAMES[cat]
        if zh:
            return f"{word}是{name[0]}。"
        return f"the {word} is {'an' if name[1][0] in 'aeiou' else 'a'} {name[1]}."
    if kind == 1:  # 猫喜欢吃鱼。
        food = w.foods[rng.choice(w.diets[a])]
        return f"{w.animals[a]}喜欢吃{food}。" if zh else f"the {w.animals[a]} likes to eat {food}."
    if kind == 2:  # 猫和狗都是动物。
        b = rng.choice([i for i in range(len(w.animals)) if i != a])
        x, y = w.animals[a], w.animals[b]
        return f"{x}和{y}都是动物。" if zh else f"the {x} and the {y} are animals."
    if kind == 3:  # 猫在花园里玩。
        place = rng.choice(w.places)
        return f"{w.animals[a]}在{place}里玩。" if zh else f"the {w.animals[a]} plays in the {place}."
    if kind == 4:  # 猫很开心。
        pred = rng.choice(ANIMATE)
        return f"{w.animals[a]}{pred[0]}。" if zh else f"the {w.animals[a]} {pred[2]}."
    if kind == 5:  # 沙发很软。
        seat, pred = rng.choice(w.seats), rng.choice(INANIMATE)
        return f"{seat}{pred[0]}。" if zh else f"the {seat} {pred[2]}."
    if kind == 6:  # 灯泡很亮。
        o = rng.randrange(len(w.objects))
        return f"{w.objects[o]}{w.object_props[o]}。" if zh else f"the {w.objects[o]} {w.object_props[o]}."
    if kind == 7:  # 灯泡在厨房里。
        thing = rng.choice(rng.choice([w.seats, w.objects, w.foods]))
        place = rng.choice(w.places)
        return f"{thing}在{place}里。" if zh else f"the {thing} is in the {place}."
    thing = rng.choice(w.objects)  # 猫看着灯泡。
    return f"{w.animals[a]}看着{thing}。" if zh else f"the {w.animals[a]} looks at the {thing}."


# Single-noun lines ("there is a cat. it is that cat."): a stepping stone with nothing to resolve, only a
# noun to copy, so a head that attends from the answer position to a noun and copies it forms early.
SINGLE_TEMPLATES = {"zh": "{x}在这里。它是{x}。", "en": "there is a {x}. it is that {x}."}

# Share of lines that are (single-noun lines, coreference units, sitting sentences, "people can sit on …");
# the rest are facts. English needs the single-noun stepping stone to learn copying within a minute; the
# variants measured on the way are in docs/experiments.md. English reads one token per word
# (core.model.tokenizer.WordTokenizer) at the Chinese rate.
LINE_MIX = {"zh": (0.0, 0.40, 0.12, 0.03), "en": (0.30, 0.49, 0.04, 0.01)}


def _sentence(w: _World, rng: random.Random, allowed: list[tuple[int, int]]) -> str:
    """One line of text: a single-noun line, a coreference unit, a sitting sentence or a fact, in the
    shares of LINE_MIX."""
    single, coref, sit, people = LINE_MIX[w.lang]
    r = rng.random()
    if r < single:
        word = rng.choice(w.animals if rng.random() < 0.5 else w.seats)
        return _fill(SINGLE_TEMPLATES[w.lang], x=word)[0]
    r -= single
    if r < coref + sit + people:
        a, s = rng.choice(allowed)
        if r < coref:
            animate = rng.random() < 0.5
            p = _probe(w, a, s, animate, rng.randrange(2), rng.randrange(3), rng.randrange(len(ANIMATE)))
            return p.text + p.answer + END[w.lang]
        if r < coref + sit:
            return _fill(rng.choice(SIT_TEMPLATES[w.lang]), a=w.animals[a], s=w.seats[s])[0]
        seat = w.seats[s]
        return f"人可以坐在{seat}上。" if w.lang == "zh" else f"people can sit on the {seat}."
    return _fact(w, rng)


def _generate(w: _World, rng: random.Random, n_chars: int) -> str:
    held = set(w.held_out)
    allowed = [(a, s) for a in range(len(w.animals)) for s in range(len(w.seats)) if (a, s) not in held]
    lines: list[str] = []
    total = 0
    while total < n_chars:
        line = _sentence(w, rng, allowed)
        lines.append(line)
        total += len(line) + 1
    return "\n".join(lines) + "\n"


def held_out_pairs(lang: str = "zh", seed: int = 0) -> tuple[tuple[str, str], ...]:
    """The (animal, seat) pairs no training line puts together, as words: (猫, 垫子) first."""
    w = _build_world(lang, seed)
    return tuple((w.animals[a], w.seats[s]) for a, s in w.held_out)


def world_corpus(lang: str = "zh", seed: int = 0, n_train_chars: int = 400_000) -> Corpus:
    """The built-in world corpus, deterministic for (lang, seed); validation is ~5 % from other draws.
    Cached: generating it is 0.2-0.3 s of pure Python (holding the GIL) at the start of every run."""
    return _world_corpus(lang, seed, n_train_chars)  # positional, so every call form shares one cache entry


@lru_cache(maxsize=4)
def _world_corpus(lang: str, seed: int, n_train_chars: int) -> Corpus:
    if lang not in COREF_TEMPLATES:
        raise CorpusError(f"Unknown corpus language {lang!r}: choose zh or en.")
    if not 1_000 <= n_train_chars <= 50_000_000:
        raise CorpusError(f"Corpus size {n_train_chars} is out of range (1,000 to 50,000,000 characters).")
    w = _build_world(lang, seed)
    train = _generate(w, random.Random(f"train-{seed}"), n_train_chars)
    val = _generate(w, random.Random(f"val-{seed}"), max(500, n_train_chars // 20))
    probes = _held_out_probes(w)
    cloze = tuple(
        ClozeCheck(
            prompt=_fill(tpl, a=animal)[0],
            good=tuple(_answer(w, s) for s in w.seats),
            bad=tuple(_answer(w, o) for o in w.objects),
        )
        for tpl in CLOZE_PROMPTS[lang]
        for animal in w.animals
    )
    return Corpus(
        lang=lang,
        source="world",
        train_text=train,
        val_text=val,
        probes=probes,
        categories=w.categories(),
        cloze_checks=cloze,
        showcase=_probe(w, 0, 0, True, 0, 0, 0),
        showcase_inanimate=_probe(w, 0, 0, False, 0, 0, 0),
    )
