"""The measured answer of each step as one or two lines (zh or en), for the panel and the worksheet."""

from __future__ import annotations

from collections.abc import Mapping


def _t(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def measured_text(step_id: str, m: Mapping, lang: str = "zh") -> str:
    if not m:
        return ""
    f = _FORMATS.get(step_id)
    return f(m, lang) if f else ""


def _tokens(m, lang):
    ids = " ".join(str(i) for i in m["ids"])
    return _t(
        lang,
        f"“{m['sentence']}”：{m['n_chars']} 个字 → {m['n_tokens']} 个编号 [{ids}]；"
        f"每个编号对应 {m['width']} 维向量",
        f"“{m['sentence']}”: {m['n_chars']} characters → {m['n_tokens']} ids [{ids}]; "
        f"each id has a {m['width']}-number vector",
    )


def _tags(m, lang):
    lines = []
    for word, scores in (m.get("scores") or {}).items():
        shown = " · ".join(f"{a} {v:+.2f}" for a, v in scores.items() if v is not None)
        lines.append(f"{word}: {shown}")
    if m.get("neighbours"):
        near = ", ".join(f"{w} {c:.2f}" for w, c in m["neighbours"])
        lines.append(_t(lang, f"“猫”的近邻：{near}", f"Nearest to 猫: {near}"))
    if m.get("purity") is not None:
        lines.append(
            _t(lang, "近邻纯度", "Neighbour purity")
            + f" {m['purity']:.2f}"
            + _t(lang, f"（随机 {m['chance']:.2f}）", f" (chance {m['chance']:.2f})")
        )
    return "\n".join(lines)


def _cloze(m, lang):
    top = " · ".join(f"{w} {p:.2f}" for w, p in m["top"])
    return _t(lang, f"{m['prompt']}：模型的前几名 {top}", f"{m['prompt']}: the model's top words {top}")


def _attention(m, lang):
    head = m.get("head") or _t(lang, "各头平均", "mean of heads")
    where = m.get("where_zh" if lang == "zh" else "where_en", "")
    return _t(
        lang,
        f"{head}，{where}：猫 {m['cat']:.2f}，垫子 {m['mat']:.2f}",
        f"{head}, {where}: 猫 {m['cat']:.2f}, 垫子 {m['mat']:.2f}",
    )


def _training(m, lang):
    src = m.get("source") == "recorded"
    how = _t(
        lang,
        "内置模型构建时记录的训练" if src else "刚才这次训练",
        "the bundled model's recorded run" if src else "this run",
    )
    secs = m.get("elapsed_s")
    took = _t(lang, f"，用时 {secs:.0f} 秒", f", {secs:.0f} s") if secs else ""
    base = m.get("baseline_val_loss")
    loss = f"{m['val_loss']:.2f}" if m.get("val_loss") is not None else "–"
    frm = f"{base:.2f} → " if base is not None else ""
    return _t(
        lang,
        f"{how}：{m['steps']:,} 步{took}，验证损失 {frm}{loss}",
        f"{how}: {m['steps']:,} steps{took}, validation loss {frm}{loss}",
    )


def _gpt3(m, lang):
    return _t(
        lang,
        f"{m['flops']:.3g} FLOPs；1 张 A100 满负荷 {m['a100_years']:.1f} 年；3,640 张 {m['fleet_days']:.1f} 天",
        f"{m['flops']:.3g} FLOPs; 1 A100 at peak {m['a100_years']:.1f} years; "
        f"3,640 of them {m['fleet_days']:.1f} days",
    )


def _h800(m, lang):
    return _t(
        lang,
        f"{m['model']}，各 {m['n_gpus']:,} 张：H100 {m['h100_days']:.1f} 天，H800 {m['h800_days']:.1f} 天 → "
        f"H800 速度为 H100 的 {m['ratio']:.0%}",
        f"{m['model']}, {m['n_gpus']:,} cards each: "
        f"H100 {m['h100_days']:.1f} days, H800 {m['h800_days']:.1f} days "
        f"→ the H800 runs at {m['ratio']:.0%} of the H100",
    )


def _distill(m, lang):
    parts = []
    if m.get("soft_labels"):
        parts.append(" · ".join(f"{w} {p:.0%}" for w, p in m["soft_labels"].items()))
    for key in ("steps_ratio", "coref_steps_ratio", "flops_ratio", "flops_ratio_cached"):
        if m.get(key) is not None:
            parts.append(f"{key} {m[key]:.2f}")
    if m.get("source"):
        parts.append(
            _t(lang, "记录的比赛" if m["source"] == "recorded" else "刚才的比赛", m["source"] + " race")
        )
    return "；".join(parts) if lang == "zh" else "; ".join(parts)


_FORMATS = {
    "tokens": _tokens,
    "tags": _tags,
    "cloze": _cloze,
    "attention": _attention,
    "training": _training,
    "gpt3": _gpt3,
    "h800": _h800,
    "distill": _distill,
}
