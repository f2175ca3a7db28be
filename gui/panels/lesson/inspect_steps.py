"""Do it for the steps that read a model: tokens, tags, the cloze, attention. Each generator raises the
dock, types the article's sentence, waits on the panel's own workers, and returns (measured, verdict,
picture widget) with every number read from the panel (its public methods, or the core function it calls)."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QWidget

from core.config import model_lang
from core.data.world import SEATS
from core.lesson import steps as S
from core.lesson import verdicts as V
from core.lesson.game import held_out_notes
from gui.panels.lesson.base import Driver, Missing, wait_for_model

SHOWN = 10  # rows the cloze panel keeps on screen after the lesson has read its whole ranking


def tokens(d: Driver):
    p = d.show("tokenizerDock", "tokenizerPanel")
    p.input.setText(S.SENTENCE)
    while d.context.current_model is None or p.kind.findData("model") < 0:
        yield ("正在加载模型…", "Loading the model…")
    p.kind.setCurrentIndex(p.kind.findData("model"))  # the tokenizer of the model loaded now
    while p.tokenizer() is None:
        yield ("正在训练分词器…", "Training the tokenizer…")
    p.refresh()
    chips, tok = p.chips(), p.tokenizer()
    m = {
        "sentence": S.SENTENCE,
        "n_chars": len(S.SENTENCE),
        "n_tokens": len(chips),
        "ids": [c.id for c in chips],
        "tokens": [c.text for c in chips],
        "unknown": [c.text for c in chips if c.unknown],
        "vocab": tok.vocab_size,
        "width": d.context.current_model.model_cfg.n_embd,
    }
    return m, V.tokens(m), p.output


def _score(value) -> float | None:
    """A cell of axis_scores(): a number, or an object with .value (None when it cannot be computed)."""
    value = getattr(value, "value", value)
    return None if value is None else float(value)


def tags(d: Driver):
    p = d.show("embeddingDock", "embeddingPanel")
    while d.context.current_model is None:
        yield ("正在加载模型…", "Loading the model…")
    ckpt = d.context.current_model
    m: dict = {"scores": {}, "neighbours": [], "purity": None, "chance": None}
    categories = (ckpt.meta or {}).get("categories")
    if isinstance(categories, dict) and categories:
        from core.analysis.probes import neighbor_purity, word_vectors  # what the panel itself computes

        words = sorted(categories)
        vectors = word_vectors(ckpt.model, ckpt.tokenizer, words, model_lang(ckpt))
        m["purity"], m["chance"] = neighbor_purity(vectors, [categories[w] for w in words])
    m["points"] = len(p.points())
    article = S.step("tags").article
    if not (callable(getattr(p, "axis_scores", None)) and callable(getattr(p, "neighbours", None))):
        verdict = V.tags(m, article)
        note = V.cannot(
            "需要词向量面板的语义轴（embeddingPanel.axis_scores() 和 neighbours()），当前版本还没有，"
            "所以文章的标签数值无法逐个核对。",
            "Needs the word-vector panel's semantic axes (embeddingPanel.axis_scores() and neighbours()), "
            "which this build lacks, so the article's tag values cannot be checked one by one.",
        )
        return m, V.Verdict("cannot", note.zh + verdict.zh, note.en + " " + verdict.en), _map(p)
    table = {}
    for _ in range(600):  # the table may be computed in a worker after a model loads
        table = p.axis_scores() or {}
        if all(w in table for w in S.TAG_WORDS) or not categories:  # a corpus without categories: no wait
            break
        yield ("正在计算语义轴…", "Scoring the semantic axes…")
    m["scores"] = {w: {a: _score(v) for a, v in (table.get(w) or {}).items()} for w in S.TAG_WORDS}
    try:  # the same table for the untrained twin (the chance picture), where the panel offers it
        untrained = p.axis_scores(untrained=True) or {}
    except TypeError:
        untrained = {}
    m["untrained"] = {w: {a: _score(v) for a, v in (untrained.get(w) or {}).items()} for w in S.TAG_WORDS}
    m["neighbours"] = [(str(w), float(c)) for w, c in p.neighbours("猫", 5)]
    return m, V.tags(m, article), _map(p)


def _map(panel) -> QWidget:
    """The word-vector map (objectName embeddingPlot, as DESIGN.md names it), else the whole panel."""
    return panel.findChild(QWidget, "embeddingPlot") or panel


def cloze_ranking(p, prompt: str) -> list[tuple[str, float]]:
    """Type a blank into the cloze panel, let it score now, and read the ranking it shows (all it can)."""
    p.input.setText(prompt)
    p.set_temperature(1.0)
    p.top_k.blockSignals(True)  # one scoring and one redraw, not one per setting
    p.top_k.setValue(p.top_k.maximum())
    p.top_k.blockSignals(False)
    p.refresh()
    ranking = p.results_items()
    p.top_k.setValue(SHOWN)  # what stays on screen (and in the worksheet's picture) is the top of it
    return ranking


def cloze(d: Driver):
    p = d.show("clozeDock", "clozePanel")
    yield from wait_for_model(p.model_choice)
    article = S.step("cloze").article
    ranking = cloze_ranking(p, article["prompt"])
    if not ranking:
        raise Missing("填空面板没有给出排名。", "The cloze panel gave no ranking.")
    probs = dict(ranking)
    m = {
        "prompt": article["prompt"],
        "top": ranking[:5],
        "probs": {w: probs[w] for w in (*article["high"], *article["low"]) if w in probs},
        "ranks": {
            w: [x for x, _ in ranking].index(w) + 1 for w in (*article["high"], *article["low"]) if w in probs
        },
        "n": len(ranking),
    }
    verdict = V.cloze(m, article)
    ckpt = p.model_choice.checkpoint()
    unknown = ckpt.tokenizer.unknown_chars(article["prompt"].replace("＿", "") + "".join(m["probs"]))
    if unknown:
        return m, _unknown(unknown, verdict), p.results
    world = (ckpt.meta or {}).get("corpus", "world") == "world"
    notes = held_out_notes(ranking, "猫", [s[0] for s in SEATS]) if world else []  # 垫子 low after 猫: why
    if not world:
        notes = [
            (
                "这个模型是用你自己的文本训练的：小世界里特意留出的词对（猫/垫子）对它不适用。",
                "This model learned from your own text: the small world's held-out pairs "
                "(猫/垫子) do not apply.",
            )
        ]
    if notes:
        zh, en = zip(*notes, strict=True)
        verdict = V.Verdict(verdict.kind, verdict.zh + "\n" + "\n".join(zh), verdict.en + "\n" + "\n".join(en))
    yield ("", "")  # one tick for the panel to lay out the rows it now shows, before its picture is taken
    return m, verdict, p.results


def _unknown(chars: list[str], verdict: V.Verdict) -> V.Verdict:
    return V.cannot(
        f"这个模型不认识 {' '.join(chars)}：这些字它只读到 <unk>，分数没有意义。" + verdict.zh,
        f"This model does not know {' '.join(chars)}: it reads <unk> there, so the scores mean nothing. "
        + verdict.en,
    )


def _span(tokens: list[str], word: str) -> list[int]:
    """Token indices of the first occurrence of `word` (char tokens: 垫子 → 垫, 子)."""
    text, starts = "", []
    for t in tokens:
        starts.append(len(text))
        text += t
    a = text.find(word)
    if a < 0:
        return []
    b = a + len(word)
    return [i for i, s in enumerate(starts) if s < b and s + len(tokens[i]) > a]


def attention(d: Driver):
    p = d.show("attentionDock", "attentionPanel")
    while d.context.current_model is None and d.context.bundled_model():
        yield ("正在加载模型…", "Loading the model…")  # the window's own load swaps the panel's model once
    yield from wait_for_model(p.model_choice)
    p.input.setText(S.ATTENTION_TEXT)
    p.refresh()
    ckpt = p.model_choice.checkpoint()
    meta = ckpt.meta or {}
    world = meta.get("corpus", "world") == "world" and bool(meta.get("categories", True))
    unknown = ckpt.tokenizer.unknown_chars(S.ATTENTION_TEXT)
    if world and callable(getattr(p, "coref_report", None)):
        p.find_coref_head()
        while p.coref_report() is None:
            yield ("正在留出句上给每个头打分…", "Scoring every head on held-out sentences…")
        scores = p.coref_report()["head_scores"]
        p.set_view(*(int(i) for i in np.unravel_index(int(np.argmax(scores)), scores.shape)))  # the best head
    toks, matrix = p.tokens(), p.attention_matrix()
    masked = ckpt.model_cfg.objective == "masked"
    row = toks.index("它") if masked and "它" in toks else len(toks) - 1
    cat, mat = _span(toks, "猫"), _span(toks, "垫子")
    if not cat or not mat or matrix.shape[0] != len(toks):
        raise Missing("这句话里找不到“猫”和“垫子”的词元。", "The sentence's tokens do not contain 猫 and 垫子.")
    layer, head, _ = p.view()
    m = {
        "sentence": S.ATTENTION_TEXT,
        "row": row,
        "head": f"L{layer + 1}H{head + 1}" if layer is not None and head is not None else None,
        "cat": float(matrix[row, cat].sum()),
        "mat": float(matrix[row, mat].sum()),
        "where_zh": "“它”" if masked else "“…它是”处",
        "where_en": "它" if masked else "the slot after 它是",
    }
    report = p.coref_report() if callable(getattr(p, "coref_report", None)) else None
    if report:
        m["held_out"] = float(report["attn_coref_best"])
        m["baseline"] = float(report.get("baseline_attn_coref_best", 0.5))
    verdict = V.attention(m, S.step("attention").article)
    while getattr(p, "grid", None) is not None and p.grid.building():  # thumbnails come one per tick
        yield ("", "")
    yield ("", "")  # one tick for the heatmap and head grid to repaint before the picture
    if not world or unknown:
        why_zh = "这个模型不是用内置世界语料训练的，没有“它”的留出测试句，" if not world else ""
        why_en = (
            "This model was not trained on the built-in world, so it has no held-out 它 probes; "
            if not world
            else ""
        )
        if unknown:
            why_zh += f"它不认识 {' '.join(unknown)}，"
            why_en += f"it does not know {' '.join(unknown)}; "
        verdict = V.cannot(
            why_zh + "所以无法判断它是否学会了指代；下面只是这句话上的注意力。" + verdict.zh,
            why_en
            + "so whether it resolves 它 cannot be shown; only this sentence's attention is. "
            + verdict.en,
        )
    return m, verdict, p.heatmap
