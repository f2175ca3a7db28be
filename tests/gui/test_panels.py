"""Panels in isolation, fed hand-made events: loss curves, word vectors, tokenizer chips, read-outs."""

from __future__ import annotations

import time

import numpy as np

from core.embeddings.projection import orient, pca_2d
from core.events import Eval, Snapshot, Started, Step
from gui.panels.embedding import EmbeddingPanel
from gui.panels.loss_panel import LossPanel
from gui.panels.tokenizer_panel import TokenizerPanel
from gui.panels.training.panel import TrainingPanel


def _step(i, loss=2.0):
    return Step(i, i * 10, loss, 1e-3, 5e4, i * 1e9, i * 0.01, min(1.0, i / 100))


def test_loss_panel_buffers_and_redraws_existing_curves(qtbot, context):
    panel, session = LossPanel(context), context.session
    qtbot.addWidget(panel)
    panel.show()
    curves = (panel.raw_curve, panel.train_curve, panel.val_curve)
    session.run_started.emit(Started("", "tiny", 1, 100, 0.0, 10, 100))
    for i in range(1, 51):
        session.step_logged.emit(_step(i, 3.0 - i * 0.01))
    session.evaluated.emit(Eval(50, 2.6, {}))
    qtbot.waitUntil(
        lambda: panel.raw_curve.getData()[0] is not None and len(panel.raw_curve.getData()[0]) == 50
    )
    assert list(panel.val_curve.getData()[1]) == [2.6]
    assert (panel.raw_curve, panel.train_curve, panel.val_curve) == curves  # same items, only setData
    panel.smooth.setValue(0)
    panel.redraw()
    assert np.allclose(panel.train_curve.getData()[1], panel.raw_curve.getData()[1])
    panel.smooth.setValue(90)
    panel.redraw()
    assert np.std(panel.train_curve.getData()[1]) < np.std(panel.raw_curve.getData()[1])
    panel.log_box.setChecked(True)
    assert panel.plot.getPlotItem().ctrl.logYCheck.isChecked()


def test_loss_panel_stays_smooth_at_100k_points(qtbot, context):
    panel, session = LossPanel(context), context.session
    qtbot.addWidget(panel)
    panel.resize(800, 500)
    panel.show()
    qtbot.waitExposed(panel)
    rng = np.random.default_rng(0)
    losses = 3 * np.exp(-np.arange(100_000) / 20_000) + rng.normal(0, 0.1, 100_000) + 1
    started = time.perf_counter()
    for i, loss in enumerate(losses[:99_000]):
        panel.train.append(i, float(loss))
    append_s = time.perf_counter() - started
    for i in range(99_000, 100_000):
        session.step_logged.emit(_step(i, float(losses[i])))
    frames = []
    for _ in range(5):
        t = time.perf_counter()
        panel.redraw()
        panel.plot.grab()  # forces a paint
        frames.append(time.perf_counter() - t)
    assert len(panel.raw_curve.getData()[0]) <= 100_000
    assert append_s < 2.0 and sorted(frames)[2] < 0.1, (append_s, frames)


def test_loss_panel_exports_png_and_csv(qtbot, tmp_path, context):
    panel, session = LossPanel(context), context.session
    qtbot.addWidget(panel)
    for i in range(1, 11):
        session.step_logged.emit(_step(i, 3.0 - i * 0.1))
    session.evaluated.emit(Eval(10, 2.5, {}))
    assert panel.export_png(str(tmp_path / "loss.png"))
    assert (tmp_path / "loss.png").stat().st_size > 500
    assert panel.export_csv(str(tmp_path / "loss.csv"))
    rows = (tmp_path / "loss.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0] == "step,train_loss,train_loss_smoothed,val_loss" and len(rows) == 12
    assert rows[-1].startswith("10,") and rows[-1].endswith(",2.5")


def test_pca_is_stable_and_captures_the_main_direction():
    rng = np.random.default_rng(1)
    x = np.outer(np.linspace(-1, 1, 20), rng.normal(size=16)) * 5 + rng.normal(0, 0.01, (20, 16))
    coords = pca_2d(x)
    assert coords.shape == (20, 2) and np.var(coords[:, 0]) > 100 * np.var(coords[:, 1])
    # a sign flip of the data does not flip the oriented picture
    assert np.allclose(orient(pca_2d(-x)), orient(coords))


def test_embedding_panel_shows_snapshot_points_and_purity(qtbot, context):
    panel, session = EmbeddingPanel(context), context.session
    qtbot.addWidget(panel)
    tokens = ("猫", "狗", "垫子", "椅子", "苹果")
    vectors = np.random.default_rng(2).normal(size=(5, 8)).astype(np.float32)
    snapshot = Snapshot(
        10, tokens, ("animal", "animal", "seat", "seat", "food"), vectors, "", (), np.zeros((1, 1, 1, 1))
    )
    session.snapshot_ready.emit(snapshot)
    assert panel.points() == {}  # hidden (a tab behind another): held, not drawn
    panel.show()
    points = panel.points()
    assert set(points) == set(tokens) and all(len(p) == 2 for p in points.values())
    assert panel.labels.labels() == points  # every word is written beside its point
    xs, ys = panel.scatter.getData()
    assert len(xs) == 5
    session.evaluated.emit(Eval(10, 2.0, {"neighbor_purity": 0.62, "neighbor_chance": 0.2}))
    assert "0.62" in panel.info.text() and "0.20" in panel.info.text()
    assert "动物" in panel.legend.text()


class _CharTok:
    """A stand-in with the core.model.tokenizer interface (char-level, <unk> = 0)."""

    unk_id = 0
    vocab_size = 10

    def __init__(self, chars="猫坐在垫子上"):
        self.stoi = {c: i + 2 for i, c in enumerate(chars)}

    def encode_with_offsets(self, text):
        return [self.stoi.get(c, 0) for c in text], [(i, i + 1) for i in range(len(text))]

    def display_tokens(self, text):
        return [c if c in self.stoi else "<unk>" for c in text]

    def unknown_chars(self, text):
        return list(dict.fromkeys(c for c in text if c not in self.stoi))


def test_tokenizer_panel_shows_chips_and_marks_unknown(qtbot):
    panel = TokenizerPanel(train=lambda kind, lang: _CharTok())
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: len(panel.chips()) > 0, timeout=5000)
    panel.input.setText("猫坐在龙上")
    qtbot.waitUntil(lambda: len(panel.chips()) == 5, timeout=5000)  # tokenized in a worker after a debounce
    chips = panel.chips()
    assert [c.text for c in chips] == list("猫坐在龙上")
    assert [c.unknown for c in chips] == [False, False, False, True, False]
    assert chips[0].id == 2 and "龙" in panel.info.text()


def test_tokenizer_panel_with_the_real_tokenizers(qtbot):
    from core.model.tokenizer import train_tokenizer

    text = "the cat sat on the mat. the dog sat on the rug. " * 50
    panel = TokenizerPanel(train=lambda kind, lang: train_tokenizer(kind, text, 300))
    qtbot.addWidget(panel)
    panel.input.setText("the cat sat")
    panel.kind.setCurrentIndex(1)  # BPE
    qtbot.waitUntil(lambda: len(panel.chips()) > 0, timeout=10_000)
    assert len(panel.chips()) < len("the cat sat")  # sub-words, not characters
    panel.kind.setCurrentIndex(0)
    qtbot.waitUntil(lambda: len(panel.chips()) == len("the cat sat"), timeout=10_000)


def test_training_panel_readouts(qtbot, context):
    panel, session = TrainingPanel(context), context.session
    qtbot.addWidget(panel)
    session.run_started.emit(Started("", "tiny", 1000, 100, 0.0, 50, 1000))
    session.step_logged.emit(Step(50, 50_000, 2.5, 1e-3, 12_345, 3.2e12, 5.0, 0.5))
    assert panel.progress.value() == 500 and "5 s" in panel.progress.format()
    assert "50 / 100" in panel._values["step"].text()
    assert "12.3 k" in panel._values["speed"].text() and "3.2 T" in panel._values["flops"].text()
    assert "A100" in panel._values["a100"].text()
    session.evaluated.emit(Eval(50, 2.4, {"coref_acc": 0.8, "coref_chance": 0.5, "neighbor_purity": 0.6}))
    assert "0.80" in panel._values["probes"].text() and "0.50" in panel._values["probes"].text()
    from gui import i18n

    i18n.set_language("en")  # read-outs already on screen follow the language switch
    panel.retranslate()
    assert "loss" in panel._values["step"].text() and "coreference" in panel._values["probes"].text()
    assert "(chance 0.50)" in panel._values["probes"].text() and "（" not in panel._values["probes"].text()
    assert "ETA" in panel.progress.format()


def test_training_panel_forms_valid_configs_for_every_preset(qtbot):
    from core.config import PRESETS

    panel = TrainingPanel()
    qtbot.addWidget(panel)
    for i, name in enumerate(PRESETS):
        panel.form.preset_combo.setCurrentIndex(i)
        model, train = panel.configs()
        assert model == PRESETS[name].model.validate() and train.steps == PRESETS[name].train.steps
    panel.form.corpus.setCurrentIndex(1)
    assert panel.configs()[1].lang == "en"


def test_training_form_follows_the_presets_english_rate_but_keeps_a_typed_one(qtbot, monkeypatch):
    from dataclasses import replace

    from core.config import PRESETS

    # `default` now shares one rate across languages; a preset may still give English its own.
    english = (("lr", 4e-3), ("min_lr_ratio", 0.4))
    monkeypatch.setitem(PRESETS, "default", replace(PRESETS["default"], english=english))
    panel = TrainingPanel()
    qtbot.addWidget(panel)
    form = panel.form
    form.preset_combo.setCurrentIndex(form.preset_combo.findData("default"))
    zh, en = PRESETS["default"].train_for("zh"), PRESETS["default"].train_for("en")
    assert zh.lr != en.lr  # the English world has its own rate: the test means something
    form.corpus.setCurrentIndex(1)
    train = panel.configs()[1]
    assert (train.lang, train.lr, train.min_lr_ratio) == ("en", en.lr, en.min_lr_ratio)
    form.corpus.setCurrentIndex(0)
    assert panel.configs()[1].lr == zh.lr
    form.lr.setValue(0.0123)  # the user's own choice survives a change of language
    form.corpus.setCurrentIndex(1)
    assert panel.configs()[1].lr == 0.0123


def test_the_world_corpus_follows_the_interface_language_but_not_a_file_or_a_running_form(qtbot, tmp_path):
    from gui import i18n

    panel = TrainingPanel()
    qtbot.addWidget(panel)
    form = panel.form
    assert panel.configs()[1].lang == "zh"
    i18n.set_language("en")
    form.retranslate()
    assert form.corpus.currentIndex() == 1 and panel.configs()[1].lang == "en"
    i18n.set_language("zh")
    form.retranslate()
    assert panel.configs()[1].lang == "zh"
    form.set_locked(True)  # a run is shown: the form says what runs, the language does not change it
    i18n.set_language("en")
    form.retranslate()
    assert form.corpus.currentIndex() == 0
    form.set_locked(False)
    text = tmp_path / "mine.txt"
    text.write_text("我的文本。" * 100, encoding="utf-8")
    form.choose_corpus_file(str(text))
    i18n.set_language("zh")
    form.retranslate()
    assert form.corpus.currentIndex() == 2 and form.corpus_path() == str(text)
