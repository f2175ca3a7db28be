"""Verdict rules: the article's figure beside the measured one, in plain words (agrees / partly / differs /
cannot show), with the reason. Pure functions over plain dicts, so each rule is testable by hand."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

KINDS = ("agrees", "partly", "differs", "cannot")
ATTENTION_CLOSE = 0.15  # within this of the article's 0.9 counts as "about 0.9"
LEARNED_MARGIN = 0.10  # as the attention panel: a score must beat its untrained baseline by this much
FLOPS_TOLERANCE = 0.02  # as resources/data/claims.json for gpt3_flops


@dataclass(frozen=True)
class Verdict:
    kind: str  # one of KINDS
    zh: str
    en: str

    def as_dict(self) -> dict:
        return asdict(self)


def cannot(zh: str, en: str) -> Verdict:
    """What the step cannot show, and why (a missing panel, a model without the needed parts)."""
    return Verdict("cannot", zh, en)


def tokens(m: Mapping) -> Verdict:
    unknown = list(m.get("unknown", ()))
    if unknown:
        return Verdict(
            "differs",
            f"这个模型没见过 {' '.join(unknown)}：在那里它只读到 <unk>，学不到向量。",
            f"This model never saw {' '.join(unknown)}: it reads only <unk> there, so no vector is learned.",
        )
    per_char = m["n_tokens"] == m["n_chars"]
    zh = (
        f"一致：{m['n_chars']} 个字变成 {m['n_tokens']} 个编号"
        + ("（一字一个）" if per_char else "")
        + f"，每个编号查一行 {m['width']} 个数的向量；整张表 {m['vocab']}×{m['width']} 都是训练学出来的。"
    )
    en = (
        f"Agrees: {m['n_chars']} characters became {m['n_tokens']} ids"
        + (" (one per character)" if per_char else "")
        + f"; each id looks up a vector of {m['width']} numbers, and the whole {m['vocab']}×{m['width']} "
        "table was learned in training."
    )
    return Verdict("agrees", zh, en)


def _axis_kind(name: str) -> str | None:
    """Which of the article's tags an axis measures: the tag named first in its name (zh or en). A two-pole
    axis such as "动物 ↔ 物品" names its positive end first, so the article's animal sign applies to it."""
    low = name.lower()
    found = []
    for kind, words in (
        ("animal", ("动物", "animal")),
        ("object", ("物品", "物体", "object", "thing")),
        ("emotion", ("情感", "感情", "emotion", "feeling")),
        ("size", ("大小", "size", "big")),
    ):
        found += [(low.find(w), kind) for w in words if w in low]
    return min(found)[1] if found else None


def axis_kinds(names) -> dict[str, str]:
    """axis name → the article tag its positive end stands for; names that match none are left out."""
    out = {}
    for name in names:
        kind = _axis_kind(name)
        if kind is not None and kind not in out.values():
            out[name] = kind
    return out


def tags(m: Mapping, article: Mapping) -> Verdict:
    """Signs of the measured scores against the article's tags for 猫 and 垫子, on the axes both name."""
    scores = m.get("scores") or {}
    checks = []  # (word, axis, article value, measured)
    for word, tags_ in article.items():
        for axis, kind in axis_kinds((scores.get(word) or {}).keys()).items():
            value = scores[word][axis]
            if kind in tags_ and value is not None:
                checks.append((word, axis, tags_[kind], float(value)))
    if not checks:
        purity, chance = m.get("purity"), m.get("chance")
        if purity is None:
            return cannot(
                "这个模型没有可比的语义轴，也没有类别信息（不是用内置世界语料训练的）。",
                "This model has no comparable semantic axes and no categories "
                "(not trained on the built-in world).",
            )
        return Verdict(
            "partly",
            f"只能部分核对：同类词确实挨在一起（近邻纯度 {purity:.2f}，随机 {chance:.2f}），"
            "但没有“动物/物体”这样的轴，文章的标签数值无法逐个对照。",
            "Only in part: words of a kind do sit together "
            f"(neighbour purity {purity:.2f}, chance {chance:.2f}), "
            "but with no animal/object axis the article's tag values cannot be checked one by one.",
        )
    same = [c for c in checks if (c[2] > 0) == (c[3] > 0)]
    untrained = m.get("untrained") or {}

    def before(word: str, axis: str) -> float | None:
        value = (untrained.get(word) or {}).get(axis)
        return None if value is None else float(value)

    def listing(word_untrained: str) -> str:
        return "; ".join(
            f"{w} {a}: {v:+.2f}"
            + (f" ({word_untrained} {before(w, a):+.2f})" if before(w, a) is not None else "")
            for w, a, _, v in checks
        )

    # A sign the untrained twin already shows at half the size or more is not learned (垫子 shares 子 with
    # 椅子, 凳子 …, so their vectors start alike).
    inborn = [
        w
        for w, a, _, v in same
        if before(w, a) is not None and before(w, a) * v > 0 and abs(before(w, a)) >= abs(v) / 2
    ]
    magnitude = "学出来的分数大小取决于模型，文章的数值是作者举的例子。"
    magnitude_en = (
        "The size of a learned score depends on the model; the article's values are made-up examples."
    )
    if inborn:
        magnitude = f"但 {'、'.join(inborn)} 的分数在未训练的模型里已有一半以上，不算学到的。" + magnitude
        magnitude_en = (
            f"But {', '.join(inborn)} scored half as much or more untrained, so that is not learned. "
            + magnitude_en
        )
    if len(same) == len(checks) and not inborn:
        return Verdict(
            "agrees",
            f"方向一致（{len(same)}/{len(checks)}）：{listing('未训练')}。{magnitude}",
            f"Same direction ({len(same)}/{len(checks)}): {listing('untrained')}. {magnitude_en}",
        )
    kind = "partly" if same else "differs"
    return Verdict(
        kind,
        f"{len(same)}/{len(checks)} 个方向与文章一致：{listing('未训练')}。{magnitude}",
        f"{len(same)} of {len(checks)} signs match the article: {listing('untrained')}. {magnitude_en}",
    )


def cloze(m: Mapping, article: Mapping) -> Verdict:
    """The article's likely words should all outrank its unlikely ones."""
    probs = m["probs"]
    high = [w for w in article["high"] if w in probs]
    low = [w for w in article["low"] if w in probs]
    if not high or not low:
        return cannot(
            "这个模型的候选词里没有文章举的词，无法对照。",
            "The article's words are not among this model's candidates, so they cannot be compared.",
        )
    worst_high = min(high, key=lambda w: probs[w])
    best_low = max(low, key=lambda w: probs[w])
    shown = " · ".join(f"{w} {probs[w]:.2g}" for w in (*high, *low))
    if probs[worst_high] > probs[best_low]:
        return Verdict(
            "agrees",
            f"一致：能坐的词都比电风扇、灯泡可能（{shown}）。",
            f"Agrees: every seat word beats 电风扇 and 灯泡 ({shown}).",
        )
    n_ok = sum(probs[w] > probs[best_low] for w in high)
    return Verdict(
        "partly" if n_ok else "differs",
        f"{'部分一致' if n_ok else '不一致'}：{worst_high} 没有高过 {best_low}（{shown}）。",
        f"{'Partly' if n_ok else 'Differs'}: {worst_high} does not beat {best_low} ({shown}).",
    )


def held_out_note(word: str, rank: int, n: int, animal: str) -> tuple[str, str]:
    """Why a seat the model never read with this animal may rank low: the pair was held out on purpose."""
    return (
        f"“{word}”排第 {rank}/{n}：训练文本里从没出现过“{animal}”和“{word}”在一起——这对词被特意留出，"
        "用来检验模型能否举一反三，所以它排得低是诚实的结果。",
        f"{word} ranks {rank} of {n}: the training text never puts {animal} with {word} — the pair is held "
        "out on purpose to test generalisation, so a low rank is an honest result.",
    )


def attention(m: Mapping, article: Mapping) -> Verdict:
    cat, mat = float(m["cat"]), float(m["mat"])
    where_zh, where_en = m.get("where_zh", ""), m.get("where_en", "")
    target = float(article["cat"])
    share = cat / (cat + mat) if cat + mat > 0 else 0.5
    nums = f"猫 {cat:.2f}，垫子 {mat:.2f}，两者之间猫占 {share:.0%}"
    nums_en = f"猫 {cat:.2f}, 垫子 {mat:.2f}; 猫's share of the two {share:.0%}"
    score = m.get("held_out")
    if score is not None:
        base = m.get("baseline", 0.5)
        nums += f"；留出句上偏向正确名词 {score:.2f}（未训练 {base:.2f}）"
        nums_en += f"; prefers the right noun on {score:.2f} of held-out sentences (untrained {base:.2f})"
    if cat <= mat:
        return Verdict(
            "differs",
            f"不一致：{where_zh}更看“垫子”而不是“猫”（{nums}）。",
            f"Differs: {where_en} looks at 垫子 more than at 猫 ({nums_en}).",
        )
    if abs(cat - target) <= ATTENTION_CLOSE:
        return Verdict(
            "agrees",
            f"一致：{where_zh}主要看“猫”，约 {target:g}（{nums}）。",
            f"Agrees: {where_en} looks mostly at 猫, about {target:g} ({nums_en}).",
        )
    return Verdict(
        "partly",
        f"方向一致、数值不同：{where_zh}更看“猫”，但不是 {target:g}（{nums}）；"
        "一个头的权重分给句中所有字，具体数值取决于模型。",
        f"Same direction, different size: {where_en} favours 猫 but not at {target:g} ({nums_en}); "
        "a head spreads its weight over every token, and the exact share depends on the model.",
    )


def training(m: Mapping, article: Mapping) -> Verdict:
    """Mechanism (the loss falls below the untrained baseline) and scale (how many updates it took)."""
    steps, loss, base = int(m["steps"]), float(m["val_loss"]), m.get("baseline_val_loss")
    if base is None or loss >= float(base) - LEARNED_MARGIN:
        return Verdict(
            "differs",
            f"这次训练 {steps} 步后验证损失 {loss:.2f}，没有明显低于未训练时，还看不出学会了什么。",
            f"After {steps} steps the validation loss is {loss:.2f}, not clearly below the untrained model's: "
            "nothing is learned yet.",
        )
    low, _high = article["updates"]
    acc, base_acc = m.get("coref_acc"), m.get("baseline_coref_acc")
    extra = extra_en = ""
    if acc is not None:
        extra = f"；“它是”后答对的比例 {acc:.2f}"
        extra_en = f"; names the right noun after 它是 on {acc:.2f}"
        if base_acc is not None:
            extra += f"（未训练 {base_acc:.2f}）"
            extra_en += f" (untrained {base_acc:.2f})"
    if steps >= low:
        return Verdict(
            "agrees",
            f"一致：{steps:,} 次更新，损失从 {float(base):.2f} 降到 {loss:.2f}{extra}。",
            f"Agrees: {steps:,} updates took the loss from {float(base):.2f} to {loss:.2f}{extra_en}.",
        )
    return Verdict(
        "partly",
        f"机制一致、规模不同：重复更新确实让损失从 {float(base):.2f} 降到 {loss:.2f}{extra}；"
        f"但这里只用了 {steps:,} 次，而不是几百万次——小世界只有几十个词，要学的东西少得多。",
        f"Same mechanism, different scale: repeated updates took the loss from {float(base):.2f} to {loss:.2f}"
        f"{extra_en}; but in {steps:,} updates, not millions — a small world of a few dozen words has far "
        "less to learn.",
    )


def gpt3(m: Mapping, article: Mapping) -> Verdict:
    """FLOPs by 6ND; one A100 at peak in years; the article's 3,640 A100s in days (it says a month)."""
    flops_ok = abs(m["flops"] / article["flops"] - 1) <= FLOPS_TOLERANCE
    years_ok = abs(m["a100_years"] / article["a100_years"] - 1) <= FLOPS_TOLERANCE
    month_ok = abs(m["fleet_days"] / article["month_days"] - 1) <= FLOPS_TOLERANCE
    n = f"{article['a100_month_gpus']:,}"
    zh = [
        ("算力一致" if flops_ok else "算力不同") + f"：6 × 参数 × token = {m['flops']:.3g} FLOPs",
        f"一张 A100 满负荷要 {m['a100_years']:.0f} 年"
        + ("" if years_ok else f"，不是 {article['a100_years']:.0f} 年"),
        f"{n} 张 A100 满负荷要 {m['fleet_days']:.1f} 天" + ("" if month_ok else "，不是一个月"),
    ]
    en = [
        ("Compute agrees" if flops_ok else "Compute differs")
        + f": 6 × parameters × tokens = {m['flops']:.3g} FLOPs",
        f"one A100 at peak needs {m['a100_years']:.0f} years"
        + ("" if years_ok else f", not {article['a100_years']:.0f}"),
        f"{n} A100s at peak need {m['fleet_days']:.1f} days" + ("" if month_ok else ", not a month"),
    ]
    kind = "agrees" if flops_ok and years_ok and month_ok else ("partly" if flops_ok else "differs")
    return Verdict(kind, "；".join(zh) + "。" + m.get("why_zh", ""), "; ".join(en) + ". " + m.get("why_en", ""))


def h800(m: Mapping, article: Mapping) -> Verdict:
    low, high = article["ratio"]
    r = float(m["ratio"])
    link = m.get("nvlink_ratio")
    link_zh = f"；但互联 NVLink 只有 {link:.0%}，计算器不计通信" if link is not None else ""
    link_en = (
        f"; NVLink, though, is {link:.0%}, and the calculator does not model communication" if link else ""
    )
    if low <= r <= high:
        return Verdict(
            "agrees",
            f"一致：同样的卡数，H800 的速度是 H100 的 {r:.0%}{link_zh}。",
            f"Agrees: with the same number of cards the H800 runs at {r:.0%} of the H100{link_en}.",
        )
    return Verdict(
        "differs",
        f"不一致：同样的卡数，H800 的训练时间与 H100 一样（{r:.0%}），因为两者 BF16 算力和显存相同{link_zh}。"
        + m.get("why_zh", ""),
        f"Differs: with the same number of cards the H800 trains as fast as the H100 ({r:.0%}): both have the "
        f"same BF16 compute and memory{link_en}. " + m.get("why_en", ""),
    )


def distill(m: Mapping, article: Mapping) -> Verdict:
    steps = m.get("steps_ratio")
    flops, cached = m.get("flops_ratio"), m.get("flops_ratio_cached")
    parts_zh, parts_en = [], []
    labels = m.get("soft_labels") or {}
    if labels:
        shown = " · ".join(f"{w} {p:.0%}" for w, p in list(labels.items())[:3])
        parts_zh.append(f"老师的软标签：{shown}（文章举例 猫 85%、垫子 15%）")
        parts_en.append(f"the teacher's soft labels: {shown} (the article's example: 猫 85 %, 垫子 15 %)")
    if steps is None:
        return Verdict(
            "cannot",
            "；".join(parts_zh + ["这次比赛没有得出步数之比（学生没有追上从头训练的最终损失）"]) + "。",
            "; ".join(parts_en + ["the race gave no step ratio (the student never reached the scratch loss)"])
            + ".",
        )
    faster = steps < 1
    cheaper = flops is not None and flops < 1
    cheaper_cached = cached is not None and cached < 1
    parts_zh.append(f"学生达到同样损失所需步数是从头训练的 {steps:.2f} 倍（{'更快' if faster else '不更快'}）")
    parts_en.append(
        f"the student needs {steps:.2f}× the scratch steps to the same loss "
        f"({'faster' if faster else 'not faster'})"
    )
    if flops is not None:
        parts_zh.append(
            f"算上老师的前向计算，算力是 {flops:.2f} 倍（{'更省' if cheaper else '不更省'}）"
            + (f"，预先缓存老师输出时 {cached:.2f} 倍" if cached is not None else "")
        )
        parts_en.append(
            f"counting the teacher's forwards, {flops:.2f}× the FLOPs "
            f"({'cheaper' if cheaper else 'not cheaper'})"
            + (f", {cached:.2f}× with the teacher's outputs cached" if cached is not None else "")
        )
    if faster and (cheaper or cheaper_cached):
        kind = "agrees" if cheaper else "partly"
    else:
        kind = "partly" if faster or cheaper else "differs"
    head = {"agrees": ("一致", "Agrees"), "partly": ("部分一致", "Partly"), "differs": ("不一致", "Differs")}[
        kind
    ]
    return Verdict(
        kind, head[0] + "：" + "；".join(parts_zh) + "。", head[1] + ": " + "; ".join(parts_en) + "."
    )
