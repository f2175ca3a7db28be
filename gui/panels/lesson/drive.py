"""Do it, one generator per step: each drives the real panels (raises the dock, reopening it when closed;
types the article's sentence; picks the head; sets the fleet; starts the run), yields a (zh, en) status
while it waits on a worker, and returns (measured, verdict, picture widget). Every measured number is read
from what the driven panel reports (its public methods, or the core function it calls) — never typed here."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from PySide6.QtWidgets import QDockWidget, QWidget

from core.data.world import SEATS
from core.lesson import steps as S
from core.lesson import verdicts as V
from core.lesson.game import held_out_notes

Status = tuple[str, str]
SHOWN = 10  # rows the cloze panel keeps on screen after the lesson has read its whole ranking


class Missing(Exception):
    """A part of the app the step needs is not in this build (or not ready): the message says which."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


class Driver:
    """What a step may touch: the main window's docks and panels, the shared context, lesson options."""

    def __init__(self, window, context, use_recorded: bool = False) -> None:
        self.window, self.context, self.use_recorded = window, context, use_recorded

    def show(self, dock_id: str, panel_name: str, needs: tuple[str, ...] = ()) -> QWidget:
        """Raise the dock (show() reopens a closed one) and return its panel, with the methods it needs."""
        dock = self.window.findChild(QDockWidget, dock_id) if self.window is not None else None
        panel = self.window.findChild(QWidget, panel_name) if dock is not None else None
        if dock is None or panel is None:
            raise Missing(
                f"需要界面中的 {dock_id}（面板 {panel_name}），当前版本没有。",
                f"Needs the {dock_id} dock (panel {panel_name}), which this build does not have.",
            )
        lacking = [n for n in needs if not callable(getattr(panel, n, None))]
        if lacking:
            names = ", ".join(f"{panel_name}.{n}()" for n in lacking)
            raise Missing(
                f"需要 {names}，当前版本的面板还没有。", f"Needs {names}, which this build's panel lacks."
            )
        dock.show()
        dock.raise_()
        return panel


def wait_for_model(choice) -> Iterator[Status]:
    """Until the panel's model switch has a loaded checkpoint (the bundled one loads in a worker)."""
    while choice.checkpoint() is None or choice.is_live():
        if choice.is_live():
            yield (
                "训练进行中：等这次训练结束再做这一步。",
                "A run is training: this step waits for it to end.",
            )
        else:
            yield ("正在加载模型…", "Loading the model…")


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
        vectors = word_vectors(ckpt.model, ckpt.tokenizer, words, ckpt.meta.get("lang", "zh"))
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


def training(d: Driver):
    from core.lesson.recorded import recorded_run

    p = d.show("trainingDock", "trainingPanel")
    session = d.context.session
    if d.use_recorded:
        run = recorded_run("default")
        if run is None:
            raise Missing(
                "找不到内置模型的训练记录（resources/models/metrics.json）。", "No recorded run is bundled."
            )
        m = {"source": "recorded", **{k: run.get(k) for k in _RUN_KEYS}}
        return m, V.training(m, S.step("training").article), p
    if session.is_busy():
        raise Missing(
            "已经有一次训练在进行：等它结束（或停止它）再来。",
            "A run is already training: wait for it or stop it first.",
        )
    ended = []
    session.run_finished.connect(ended.append)
    session.run_failed.connect(ended.append)
    try:
        p.form.preset_combo.setCurrentIndex(max(0, p.form.preset_combo.findData("default")))
        p.start_training()
        while not ended:
            yield ("正在训练（约 60 秒）…", "Training (about 60 s)…")
    finally:
        session.run_finished.disconnect(ended.append)
        session.run_failed.disconnect(ended.append)
    metrics = dict(session.last_metrics) if hasattr(ended[0], "metrics") else {}
    if metrics.get("val_loss") is None:
        raise Missing(
            "这次训练没有给出验证损失（停止了或失败了）。",
            "The run reported no validation loss (stopped or failed).",
        )
    loss_plot = d.window.findChild(QWidget, "lossPlot")
    m = {"source": "live", **{k: metrics.get(k) for k in _RUN_KEYS}}
    return m, V.training(m, S.step("training").article), loss_plot or p


_RUN_KEYS = ("steps", "val_loss", "baseline_val_loss", "coref_acc", "baseline_coref_acc", "elapsed_s")


def _cost_panel(d: Driver, preset: str, mfu: float | None = None):
    p = d.show("costDock", "costPanel")
    p.tabs.setCurrentIndex(0)
    p.preset.setCurrentIndex(p.preset.findData(preset))
    if mfu is not None:
        p.mfu.setValue(mfu)
    return p


def _set_fleet(p, **counts: int):
    """Every GPU count at once, then one recompute (a recompute per spin box cost ~20 ms each)."""
    for gid, spin in p.counts.items():
        spin.blockSignals(True)
        spin.setValue(counts.get(gid, 0))
        spin.blockSignals(False)
    return p.recompute()


def _claim(claim_id: str):
    """The check the cost panel's fact-check tab shows (its table holds them, computed once)."""
    from core.cost.factcheck import check_claims

    global _CLAIMS
    if _CLAIMS is None:
        _CLAIMS = {c.id: c for c in check_claims()}
    return _CLAIMS[claim_id]


_CLAIMS = None


def gpt3(d: Driver):
    yield from ()  # a generator like the others, though nothing here waits: the calculator is instant
    p = _cost_panel(d, "gpt3", mfu=1.0)  # the article's figures assume the card's full peak
    one = _set_fleet(p, A100=1)
    article = S.step("gpt3").article
    fleet = _set_fleet(p, A100=int(article["a100_month_gpus"]))
    years, month = _claim("a100_355_years"), _claim("a100_3640_month")
    m = {
        "flops": fleet.flops,
        "a100_years": one.years,
        "fleet_days": fleet.days,
        "why_zh": years.explain_zh + month.explain_zh,
        "why_en": years.explain_en + " " + month.explain_en,
    }
    return m, V.gpt3(m, article), p.plot


def h800(d: Driver):
    yield from ()
    p = _cost_panel(d, "deepseek_v3")
    n = 2048  # DeepSeek-V3's own fleet size
    h100 = _set_fleet(p, H100=n)
    h800_ = _set_fleet(p, H800=n)
    claim = _claim("h800_60_77")
    m = {
        "model": p.preset.currentText(),
        "n_gpus": n,
        "h100_days": h100.days,
        "h800_days": h800_.days,
        "ratio": h100.seconds / h800_.seconds,
        "nvlink_ratio": _claim("h800_cut_down").computed,
        "why_zh": claim.explain_zh,
        "why_en": claim.explain_en,
    }
    return m, V.h800(m, S.step("h800").article), p.plot


def _soft_labels(raw) -> dict[str, float]:
    """soft_labels() as {word: probability}, the three likeliest (a dict or (word, p) pairs)."""
    pairs = list(raw.items()) if isinstance(raw, dict) else [tuple(x)[:2] for x in raw or ()]
    pairs = sorted(((str(w).strip(), float(q)) for w, q in pairs), key=lambda x: -x[1])
    return dict(pairs[:3])


def distill(d: Driver):
    p = d.show("distillDock", "distillPanel", needs=("verdict", "start_race", "soft_labels"))
    labels = _soft_labels(p.soft_labels(S.SOFT_LABEL_TEXT, 1.0))
    result = p.verdict()
    if not (result and (d.use_recorded or result.get("source") == "live")):  # a live result is never re-run
        if d.context.session.is_busy():
            raise Missing(
                "训练进行中：等它结束再开始蒸馏比赛。", "A run is training: start the race after it ends."
            )
        p.start_race()
        result = p.verdict()
        while not (result and (d.use_recorded or result.get("source") == "live")):
            yield ("蒸馏比赛进行中…", "The distillation race is running…")
            result = p.verdict()
    keys = ("steps_ratio", "coref_steps_ratio", "flops_ratio", "flops_ratio_cached", "steps", "source")
    m = {"soft_labels": labels, **{k: result.get(k) for k in keys}}
    plot = d.window.findChild(QWidget, "distillPlot")
    return m, V.distill(m, S.step("distill").article), plot or p


DRIVERS = {
    "tokens": tokens,
    "tags": tags,
    "cloze": cloze,
    "attention": attention,
    "training": training,
    "gpt3": gpt3,
    "h800": h800,
    "distill": distill,
}
assert tuple(DRIVERS) == S.STEP_IDS
