"""One honest line on what a model has measurably learned about 它, with the untrained baseline beside
every score — so a pretty heatmap from an untrained or half-trained model is never mistaken for skill.

Pure functions over the metric dicts of core.analysis.probes.coref_metrics (a checkpoint's meta, or a fresh
"find the coreference head" report)."""

from __future__ import annotations

from gui.i18n import tr

LEARNED_MARGIN = 0.10  # a score must beat the untrained baseline by this much to count as learned
LOPSIDED = 0.40  # animal-vs-seat gap in the attention score that means "by category, not by meaning"


def _pair(m: dict, key: str) -> tuple[float, float] | None:
    if key not in m:
        return None
    base = m.get(f"baseline_{key}", m.get("attn_chance", 0.5))
    return float(m[key]), float(base)


def _verdict(score: float, base: float) -> str:
    return tr("已学会", "learned") if score >= base + LEARNED_MARGIN else tr("尚未学会", "not learned yet")


def summary_line(metrics: dict, objective: str) -> str:
    """E.g. "因果模型 · 在…它是处：各头平均 0.91（未训练 0.50）已学会；最好的头 L2H1 0.98（未训练 0.62）"."""
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
    where = tr("在句末空格处", "at the blank after 它是") if masked else tr("在 …它是 处", "at …它是")
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
    by_kind = _by_kind_part(metrics)
    if by_kind:
        parts.append(by_kind)
    acc = _pair(metrics, "coref_acc")
    if acc is not None:
        parts.append(
            tr(
                f"答对“它是”后的名词 {acc[0]:.2f}（未训练 {acc[1]:.2f}）",
                f"names the right noun after 它是 {acc[0]:.2f} (untrained {acc[1]:.2f})",
            )
        )
    pron = _pair(metrics, "attn_pronoun_best")
    if masked and pron is not None:
        phead = metrics.get("attn_pronoun_best_head", "?")
        parts.append(
            tr(
                f"在“它”本身：最好的头 {phead} {pron[0]:.2f}（未训练 {pron[1]:.2f}）{_verdict(*pron)}",
                f"at 它 itself: best head {phead} {pron[0]:.2f} (untrained {pron[1]:.2f}) {_verdict(*pron)}",
            )
        )
    elif not masked:
        parts.append(
            tr(
                "“它”本身还没读到后面的“舒服”，因果模型只能在之后的位置解析它",
                "它 itself has not yet seen 舒服, so a causal model can only resolve it later",
            )
        )
    return tr("。", ". ").join(parts) + tr("。", ".")


def _by_kind_part(metrics: dict) -> str:
    """The mean-of-heads score split by what 它 refers to. A model whose heads fetch one kind of noun
    whatever the predicate says scores high on one kind and low on the other: say so in words. (An
    untrained model is lopsided too, e.g. Chinese seat names have two characters and the score sums a span.)"""
    animal, seat = _pair(metrics, "attn_coref_mean_animal"), _pair(metrics, "attn_coref_mean_seat")
    if animal is None or seat is None:
        return ""
    text = tr(
        f"按句子分：它指动物 {animal[0]:.2f}（未训练 {animal[1]:.2f}），"
        f"它指坐具 {seat[0]:.2f}（未训练 {seat[1]:.2f}）",
        f"By sentence: when 它 is the animal {animal[0]:.2f} (untrained {animal[1]:.2f}), "
        f"when it is the seat {seat[0]:.2f} (untrained {seat[1]:.2f})",
    )
    if abs(animal[0] - seat[0]) >= LOPSIDED:
        text += tr(
            "——无论谓语说什么，注意力都偏向同一种名词，而不是“很舒服 / 很软”所指的那个",
            " — attention favours the same kind of noun whatever the predicate says,"
            " not the one 很舒服 / 很软 points to",
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
    text = summary_line(metrics, ckpt.model_cfg.objective)
    return text + ("\n" + report_line(report) if report else "")
