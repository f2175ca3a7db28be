"""The distillation lab: set T and α, click distillButton, both curves grow on distillPlot, Stop stops, the
verdict table fills — with the real engine on a tiny teacher and corpus. Plus the refusals and soft labels."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from core.config import ModelConfig, TrainConfig

TEACHER_CFG = ModelConfig(n_layer=2, n_head=4, n_embd=32, block_size=16)


@pytest.fixture(scope="module")
def corpus():
    from core.data.world import world_corpus

    return world_corpus("zh", 0, n_train_chars=6_000)


@pytest.fixture
def teacher_path(corpus, tmp_path):
    import torch

    from core.model.checkpoint import save_checkpoint
    from core.model.gpt import GPT
    from core.model.tokenizer import train_tokenizer

    tok = train_tokenizer("char", corpus.train_text)
    torch.manual_seed(0)
    model = GPT(replace(TEACHER_CFG, vocab_size=tok.vocab_size))
    meta = {"corpus": "world", "lang": "zh", "categories": corpus.categories, "metrics": {"flops": 1e12}}
    return save_checkpoint(tmp_path / "teacher" / "model.safetensors", model, tok, TrainConfig(), meta)


@pytest.fixture
def panel(qtbot, corpus, teacher_path):
    from core.distill.distiller import Distiller
    from gui.panels.distill.panel import DistillPanel

    p = DistillPanel(None)
    qtbot.addWidget(p)
    p._teacher_path = teacher_path

    def tiny_race(settings, out_dir):
        student = ModelConfig(n_layer=1, n_head=2, n_embd=16, block_size=16)
        train = TrainConfig(
            batch_size=4, steps=settings.steps, seconds=0.0, warmup_steps=2, seed=settings.seed, threads=1
        )
        return Distiller(settings.teacher, student, train, settings.distill, out_dir, "tiny", corpus)

    p.race_factory = tiny_race
    p.preset_combo.setCurrentText("tiny")
    yield p
    from gui import workers

    # the panel's soft labels load the teacher in a worker at startup: slow on a busy machine, let it end
    qtbot.waitUntil(lambda: not workers.live_threads(), timeout=30_000)


def test_the_race_journey(qtbot, panel):
    assert panel.verdict() is None  # nothing recorded (the test models folder is empty), nothing run
    panel.set_temperature(2.0)
    panel.set_alpha(0.5)
    panel.steps.setValue(900)  # long enough that Stop, not the budget, ends it (evaluated every 30 steps)
    panel.cached.setChecked(False)  # the live teacher: the race starts at once (the cache is tested in core)
    button = panel.findChild(QPushButton, "distillButton")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert panel.is_running()
    panel.start_race()  # a second start while running does nothing
    plot = panel.plot
    qtbot.waitUntil(lambda: plot.points("distilled") >= 3 and plot.points("scratch") >= 3, timeout=90_000)
    grown = plot.points("distilled")
    qtbot.mouseClick(panel.findChild(QPushButton, "distillStopButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=30_000)
    assert plot.points("distilled") >= grown and plot.points("scratch") == plot.points("distilled")
    v = panel.verdict()
    assert v is not None and v["source"] == "live"
    assert v["temperature"] == 2.0 and v["alpha"] == 0.5 and v["steps"] < 900  # stopped early
    for key in ("steps_ratio", "coref_steps_ratio", "flops_ratio", "flops_ratio_cached"):
        assert key in v
    table = panel.verdict_view.table
    assert table.rowCount() >= 6 and table.item(0, 2).text().replace(",", "") == str(v["steps"])
    assert panel.verdict_view.probes.rowCount() == 5
    assert panel.button.isEnabled() and not panel.stop_button.isEnabled()


def test_bad_settings_are_refused_with_a_message(qtbot, panel):
    panel.set_temperature(0.0)
    panel.start_race()
    assert not panel.is_running() and "temperature" in panel.status.text()
    panel.set_temperature(1.0)
    panel.set_alpha(1.5)
    panel.start_race()
    assert not panel.is_running() and "alpha" in panel.status.text()
    panel.set_alpha(0.9)
    panel.hidden_weight.setValue(-1.0)
    panel.start_race()
    assert not panel.is_running() and "hidden_weight" in panel.status.text()


def test_a_teacher_with_another_tokenizer_is_refused(qtbot, panel, tmp_path):
    from core.model.checkpoint import save_checkpoint
    from core.model.gpt import GPT
    from core.model.tokenizer import CharTokenizer

    other = CharTokenizer(["<unk>", "[MASK]", *"abcdefghij"])
    path = save_checkpoint(
        tmp_path / "other.safetensors",
        GPT(replace(TEACHER_CFG, vocab_size=other.vocab_size)),
        other,
        TrainConfig(),
    )
    before = panel._teacher_path
    panel.set_teacher(path)
    qtbot.waitUntil(lambda: "tokenizer" in panel.status.text(), timeout=30_000)
    assert panel._teacher_path == before  # the old teacher stays


def test_soft_labels_give_teacher_and_student_probabilities(qtbot, panel):
    rows = panel.soft_labels("猫坐在垫子上，它很舒服。它是＿", 1.0)
    assert 1 <= len(rows) <= 8
    assert all(0.0 <= pt <= 1.0 and 0.0 <= ps <= 1.0 for _, pt, ps in rows)
    assert [r[1] for r in rows] == sorted((r[1] for r in rows), reverse=True)  # the teacher's order
    flat = panel.soft_labels("猫坐在垫子上，它很舒服。它是＿", 5.0)
    assert max(r[1] for r in flat) < max(r[1] for r in rows)  # a higher temperature flattens the teacher
