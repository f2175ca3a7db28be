"""One honest line on what a model has measurably learned about 它, with the untrained baseline beside
every score — so a pretty heatmap from an untrained or half-trained model is never mistaken for skill.

Pure functions over the metric dicts of core.analysis.probes.coref_metrics (a checkpoint's meta, or a fresh
"find the coreference head" report)."""

from __future__ import annotations

from core.config import model_lang
from gui.i18n import tr

LEARNED_MARGIN = 0.10  # a score must beat the untrained baseline by this much to count as learned
LOPSIDED = 0.40  # animal-vs-seat gap in the attention score that means "by category, not by meaning"
# The words of the model's own world that the line quotes (core/data/world.py's probe sentences): the text
# before the answer, the pronoun, and the two predicates that decide what it refers to.
WORLD_WORDS = {
    "zh": {"answer": "它是", "it": "它", "animate": "很舒服", "inanimate": "很软"},
    "en": {"answer": ", that", "it": "it", "animate": "was comfortable", "inanimate": "was soft"},
}


def _pair(m: dict, key: str) -> tuple[float, float] | None:
    if key not in m:
        return None
    base = m.get(f"baseline_{key}", m.get("attn_chance", 0.5))
    return float(m[key]), float(base)


def _verdict(score: float, base: float) -> str:
    return tr("已学会", "learned") if score >= base + LEARNED_MARGIN else tr("尚未学会", "not learned yet")


def summary_line(metrics: dict, objective: str, lang: str = "zh") -> str:
    """E.g. "因果模型 · 在…它是处：各头平均 0.91（未训练 0.50）已学会；最好的头 L2H1 0.98（未训练 0.62）".
    `lang` is the model's world (its probe words are quoted), not the interface's language."""
    w = WORLD_WORDS.get(lang, WORLD_WORDS["zh"])
    if not metrics or "attn_coref_mean" not in metrics:
        return tr(
            "这个模型没有留出句上的指代评分（不是用内置世界语料训练的）。",
            "No held-out coreference scores for this model (not trained on the built-in world).",
        )
    masked = objective == "masked"
    name = (
        tr("完形填空模型（双向）", "Cloze model (bidirectional)") if masked else tr("因果模型", "Causal model")
    )
    mean, best = _pair(metrics, "attn_coref_mean"), _pair(metrics, "attn_coref_best")
    head = metrics.get("attn_coref_best_head", "?")
    answer = w["answer"]
    where = (
        tr("在句末空格处", f"at the blank after “{answer}”")
        if masked
        else tr(f"在“…{answer}”处", f"at “…{answer}”")
    )
    parts = [
        f"{name} · {where}: "
        + tr(
            f"各头平均 {mean[0]:.2f}（未训练 {mean[1]:.2f}）{_verdict(*mean)}；",
            f"mean of heads {mean[0]:.2f} (untrained {mean[1]:.2f}) {_verdict(*mean)}; ",
        )
        + tr(
            f"最好的头 {head} {best[0]:.2f}（未训练最好的头 {best[1]:.2f}）",
            f"best head {head} {best[0]:.2f} (untrained best {best[1]:.2f})",
        )
    ]
    by_kind = _by_kind_part(metrics, w)
    if by_kind:
        parts.append(by_kind)
    acc = _pair(metrics, "coref_acc")
    if acc is not None:
        parts.append(
            tr(
                f"答对“{answer}”后的名词 {acc[0]:.2f}（未训练 {acc[1]:.2f}）",
                f"names the right noun after “{answer}” {acc[0]:.2f} (untrained {acc[1]:.2f})",
            )
        )
    pron = _pair(metrics, "attn_pronoun_best")
    if masked and pron is not None:
        phead = metrics.get("attn_pronoun_best_head", "?")
        parts.append(
            tr(
                f"在“{w['it']}”本身：最好的头 {phead} {pron[0]:.2f}（未训练 {pron[1]:.2f}）{_verdict(*pron)}",
                f"at {w['it']} itself: best head {phead} {pron[0]:.2f} (untrained {pron[1]:.2f}) "
                f"{_verdict(*pron)}",
            )
        )
    elif not masked:
        parts.append(
            tr(
                f"“{w['it']}”本身还没读到后面的“{w['animate']}”，因果模型只能在之后的位置解析它",
                f"{w['it']} itself has not yet seen “{w['animate']}”, so a causal model resolves it only later",
            )
        )
    return tr("。", ". ").join(parts) + tr("。", ".")


def _by_kind_part(metrics: dict, w: dict[str, str]) -> str:
    """The mean-of-heads score split by what 它 refers to. A model whose heads fetch one kind of noun
    whatever the predicate says scores high on one kind and low on the other: say so in words. (An
    untrained model is lopsided too, e.g. Chinese seat names have two characters and the score sums a span.)"""
    animal, seat = _pair(metrics, "attn_coref_mean_animal"), _pair(metrics, "attn_coref_mean_seat")
    if animal is None or seat is None:
        return ""
    text = tr(
        f"按句子分：{w['it']}指动物 {animal[0]:.2f}（未训练 {animal[1]:.2f}），"
        f"{w['it']}指坐具 {seat[0]:.2f}（未训练 {seat[1]:.2f}）",
        f"By sentence: when {w['it']} is the animal {animal[0]:.2f} (untrained {animal[1]:.2f}), "
        f"when it is the seat {seat[0]:.2f} (untrained {seat[1]:.2f})",
    )
    if abs(animal[0] - seat[0]) >= LOPSIDED:
        text += tr(
            f"——无论谓语说什么，注意力都偏向同一种名词，而不是“{w['animate']} / {w['inanimate']}”所指的那个",
            " — attention favours the same kind of noun whatever the predicate says,"
            f" not the one “{w['animate']}” / “{w['inanimate']}” points to",
        )
    return text


def report_line(report: dict) -> str:
    """The "find the coreference head" result: the head, its score, the untrained baseline, chance."""
    n = report.get("n_probes", 0)
    head, score = report.get("attn_coref_best_head", "?"), float(report.get("attn_coref_best", 0.0))
    base = float(report.get("baseline_attn_coref_best", 0.5))
    chance = float(report.get("attn_chance", 0.5))
    return tr(
        f"指代头：{head}，在 {n} 个留出句上偏向正确名词的比例 {score:.2f}"
        f"（未训练模型最好的头 {base:.2f}，随机 {chance:.2f}）",
        f"Coreference head: {head}, prefers the right noun on {score:.2f} of {n} held-out sentences "
        f"(untrained model's best head {base:.2f}, chance {chance:.2f})",
    )


def coref_report(ckpt, lang: str) -> dict:
    """Run in a worker: every head scored on the world's held-out probes, beside an untrained twin."""
    from core.analysis.probes import coref_head_report, held_out_probes
    from gui.widgets.model_choice import inference_threads

    seed = int(getattr(ckpt.train_cfg, "seed", 0))
    with inference_threads():
        return coref_head_report(ckpt.model, ckpt.tokenizer, held_out_probes(lang, seed), seed)


def model_summary(ckpt, report: dict | None) -> str:
    """The panel's bottom line: the fresh report when there is one, else the checkpoint's own metrics."""
    if ckpt is None:
        return ""
    metrics = report or (getattr(ckpt, "meta", None) or {}).get("metrics", {})
    text = summary_line(metrics, ckpt.model_cfg.objective, model_lang(ckpt))
    return text + ("\n" + report_line(report) if report else "")
