"""Do it for the steps that train or count: the training run (live or recorded), GPT-3's compute and
H800 vs H100 in the cost panel, and the distillation race. Numbers come from what the panels report."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from core.lesson import steps as S
from core.lesson import verdicts as V
from gui.panels.lesson.base import Driver, Missing


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
