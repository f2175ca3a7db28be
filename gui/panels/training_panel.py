"""Training panel: pick a preset, adjust it, train, and read the run's speed, cost and probe scores live.

Bounds come from core.config (spin ranges mirror them; `validate()` has the last word and its message is
shown here), so the form never offers a value the engine would reject silently."""

from __future__ import annotations

import dataclasses
import os

from PySide6.QtWidgets import (
    QComboBox, QDoubleSpinBox, QFileDialog, QGridLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton,
    QSpinBox, QVBoxLayout, QWidget,
)

from core.config import PRESETS, ConfigError, ModelConfig, TrainConfig
from core.events import Done, Eval, Failed, Started, Step
from gui.i18n import tr
from gui.widgets.fmt import a100_seconds, duration, si

PRESET_NOTES = {
    "tiny": ("几秒钟的小模型", "a few seconds, tiny"),
    "default": ("一分钟演示：学会 它 → 猫", "one-minute demo: learns 它 → 猫"),
    "cloze": ("完形填空（双向）", "fill in the blank (bidirectional)"),
    "teacher": ("更大的老师模型", "bigger teacher model"),
}


def _spin(low: int, high: int, name: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setObjectName(name)
    return box


class TrainingPanel(QWidget):
    """Form + buttons + read-outs; talks to the engine only through `context.session`."""

    def __init__(self, context=None) -> None:
        super().__init__()
        self.setObjectName("trainingPanel")
        self.context = context
        self.session = context.session if context is not None else None
        self._corpus_file = ""
        self._total_steps = 0
        self._labels: dict[str, QLabel] = {}

        self.preset_combo = QComboBox(objectName="presetCombo")
        for name in PRESETS:
            self.preset_combo.addItem(name, name)
        self.objective = QComboBox(objectName="objectiveCombo")
        self.objective.addItems(["", ""])
        # Ranges mirror ModelConfig.validate / TrainConfig.validate.
        self.layers = _spin(1, 48, "layersSpin")
        self.heads = _spin(1, 64, "headsSpin")
        self.width = _spin(8, 4096, "widthSpin")
        self.context_len = _spin(4, 4096, "contextSpin")
        self.lr = QDoubleSpinBox(objectName="lrSpin", decimals=6, minimum=1e-6, maximum=1.0, singleStep=1e-4)
        self.budget_kind = QComboBox(objectName="budgetKind")
        self.budget_kind.addItems(["", ""])
        self.steps = _spin(1, 100_000_000, "stepsSpin")
        self.seconds = QDoubleSpinBox(objectName="secondsSpin", decimals=1, minimum=0.1, maximum=30 * 86400.0)
        self.seed = _spin(0, 2**31 - 1, "seedSpin")
        self.corpus = QComboBox(objectName="corpusCombo")
        self.corpus.addItems(["", "", ""])
        self.browse = QPushButton(objectName="browseButton")
        self.message = QLabel(objectName="trainingMessage", wordWrap=True)
        self.message.setStyleSheet("color: #b3261e")
        self.train_button = QPushButton(objectName="trainButton")
        self.pause_button = QPushButton(objectName="pauseButton")
        self.stop_button = QPushButton(objectName="stopButton")
        self.progress = QProgressBar(objectName="trainProgress", minimum=0, maximum=1000)
        self.progress.setValue(0)

        form = QGridLayout()
        rows = [
            ("preset", self.preset_combo, None, None),
            ("objective", self.objective, "layers", self.layers),
            ("heads", self.heads, "width", self.width),
            ("context", self.context_len, "lr", self.lr),
            ("budget", self.budget_kind, None, self._pair(self.steps, self.seconds)),
            ("seed", self.seed, None, None),
            ("corpus", self.corpus, None, self.browse),
        ]
        for row, (left_key, left, right_key, right) in enumerate(rows):
            form.addWidget(self._label(left_key), row, 0)
            form.addWidget(left, row, 1, 1, 1 if right is not None else 3)
            if right_key:
                form.addWidget(self._label(right_key), row, 2)
            if right is not None:
                form.addWidget(right, row, 3 if right_key else 2, 1, 1 if right_key else 2)
        buttons = QHBoxLayout()
        for button in (self.train_button, self.pause_button, self.stop_button):
            buttons.addWidget(button)
        readouts = QGridLayout()
        for row, key in enumerate(("step", "speed", "flops", "a100", "probes")):
            readouts.addWidget(self._label(key), row, 0)
            value = QLabel("–", objectName=f"{key}Readout")
            value.setTextInteractionFlags(value.textInteractionFlags())
            self._labels[key + "_value"] = value
            readouts.addWidget(value, row, 1)
        readouts.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addLayout(readouts)
        layout.addStretch(1)

        self.preset_combo.currentIndexChanged.connect(self._on_preset_chosen)
        self.budget_kind.currentIndexChanged.connect(self._on_budget_kind_changed)
        self.corpus.currentIndexChanged.connect(self._on_corpus_chosen)
        self.browse.clicked.connect(self.choose_corpus_file)
        self.train_button.clicked.connect(self.start_training)
        self.pause_button.clicked.connect(self._on_pause_clicked)
        self.stop_button.clicked.connect(self._on_stop_clicked)
        if self.session is not None:
            self.session.run_started.connect(self._on_run_started)
            self.session.step_logged.connect(self._on_step_logged)
            self.session.evaluated.connect(self._on_evaluated)
            self.session.run_finished.connect(self._on_run_finished)
            self.session.run_failed.connect(self._on_run_failed)
            self.session.state_changed.connect(self._on_state_changed)

        last = context.settings.value("training/preset", "tiny") if context is not None else "tiny"
        self.preset_combo.setCurrentIndex(max(0, self.preset_combo.findData(last)))
        self._on_preset_chosen()
        self._on_state_changed("idle")
        self.retranslate()

    def _label(self, key: str) -> QLabel:
        self._labels[key] = QLabel()
        return self._labels[key]

    @staticmethod
    def _pair(a: QWidget, b: QWidget) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(a)
        row.addWidget(b)
        return box

    def retranslate(self) -> None:
        names = {
            "preset": tr("预设", "Preset"), "objective": tr("目标", "Objective"), "layers": tr("层数", "Layers"),
            "heads": tr("注意力头", "Heads"), "width": tr("宽度", "Width"), "context": tr("上下文", "Context"),
            "lr": tr("学习率", "Learning rate"), "budget": tr("训练量", "Budget"), "seed": tr("随机种子", "Seed"),
            "corpus": tr("语料", "Corpus"), "step": tr("步数", "Step"), "speed": tr("速度", "Speed"),
            "flops": tr("已用算力", "FLOPs so far"), "a100": tr("换成 A100", "On an A100"),
            "probes": tr("探针", "Probes"),
        }
        for key, text in names.items():
            self._labels[key].setText(text)
        for i, name in enumerate(PRESETS):
            self.preset_combo.setItemText(i, f"{name} — {tr(*PRESET_NOTES.get(name, (name, name)))}")
        self.objective.setItemText(0, tr("接龙：预测下一个词（GPT）", "next token (GPT)"))
        self.objective.setItemText(1, tr("完形填空（双向）", "fill the blank (masked)"))
        self.budget_kind.setItemText(0, tr("步数", "steps"))
        self.budget_kind.setItemText(1, tr("秒数", "seconds"))
        self.corpus.setItemText(0, tr("小世界 · 中文", "small world · Chinese"))
        self.corpus.setItemText(1, tr("小世界 · 英文", "small world · English"))
        file_name = os.path.basename(self._corpus_file)
        self.corpus.setItemText(2, file_name or tr("文本文件…", "text file…"))
        self.browse.setText(tr("选择文件…", "Choose file…"))
        self.train_button.setText(tr("训练", "Train"))
        self.pause_button.setText(tr("继续", "Resume") if self._state() == "paused" else tr("暂停", "Pause"))
        self.stop_button.setText(tr("停止", "Stop"))

    def _state(self) -> str:
        return self.session.state if self.session is not None else "idle"

    # --- the form ---------------------------------------------------------------------------------
    def _on_preset_chosen(self, *_):
        preset = PRESETS[self.preset_combo.currentData()]
        m, t = preset.model, preset.train
        self.objective.setCurrentIndex(1 if m.objective == "masked" else 0)
        self.layers.setValue(m.n_layer)
        self.heads.setValue(m.n_head)
        self.width.setValue(m.n_embd)
        self.context_len.setValue(m.block_size)
        self.lr.setValue(t.lr)
        self.budget_kind.setCurrentIndex(0 if t.steps else 1)
        self.steps.setValue(t.steps or 600)
        self.seconds.setValue(t.seconds)
        self.seed.setValue(t.seed)
        self._on_budget_kind_changed()
        if self.context is not None:
            self.context.settings.setValue("training/preset", preset.name)

    def _on_budget_kind_changed(self, *_):
        self.steps.setVisible(self.budget_kind.currentIndex() == 0)
        self.seconds.setVisible(self.budget_kind.currentIndex() == 1)

    def _on_corpus_chosen(self, index: int) -> None:
        if index == 2 and not self._corpus_file:
            self.choose_corpus_file()

    def choose_corpus_file(self, path: str | None = None) -> None:
        if not path:
            path, _ = QFileDialog.getOpenFileName(self, tr("选择 UTF-8 文本", "Choose a UTF-8 text file"),
                                                  "", tr("文本 (*.txt);;全部 (*)", "Text (*.txt);;All (*)"))
        if path:
            self._corpus_file = path
            self.corpus.setCurrentIndex(2)
        elif not self._corpus_file:
            self.corpus.setCurrentIndex(0)
        self.retranslate()

    def configs(self) -> tuple[ModelConfig, TrainConfig]:
        """The form as engine configs, validated (raises ConfigError with the engine's message)."""
        preset = PRESETS[self.preset_combo.currentData()]
        model = dataclasses.replace(
            preset.model, objective="masked" if self.objective.currentIndex() else "causal",
            n_layer=self.layers.value(), n_head=self.heads.value(), n_embd=self.width.value(),
            block_size=self.context_len.value())
        by_steps = self.budget_kind.currentIndex() == 0
        lang = "en" if self.corpus.currentIndex() == 1 else preset.train.lang
        train = dataclasses.replace(
            preset.train, lr=self.lr.value(), steps=self.steps.value() if by_steps else 0,
            seconds=preset.train.seconds if by_steps else self.seconds.value(), seed=self.seed.value(), lang=lang)
        return model.validate(), train.validate()

    def start_training(self) -> None:
        if self.session is None or self.session.is_busy():
            return
        try:
            model, train = self.configs()
        except ConfigError as exc:
            self.message.setText(str(exc))
            return
        corpus_path = None
        if self.corpus.currentIndex() == 2:
            if not os.path.isfile(self._corpus_file):
                self.message.setText(tr("找不到语料文件：", "Corpus file not found: ") + self._corpus_file)
                return
            corpus_path = self._corpus_file
        from gui.context import runs_root

        preset = self.preset_combo.currentData()
        out_dir = os.path.join(runs_root(), f"{preset}-{os.getpid()}-{_stamp()}")
        self.message.clear()
        self.session.start(model, train, corpus_path=corpus_path, out_dir=out_dir, preset=preset)

    # --- the run ------------------------------------------------------------------------------------
    def _on_pause_clicked(self) -> None:
        if self._state() == "paused":
            self.session.resume()
        else:
            self.session.pause()

    def _on_stop_clicked(self) -> None:
        self.session.stop()

    def _on_state_changed(self, state: str) -> None:
        self.train_button.setEnabled(state == "idle")
        self.pause_button.setEnabled(state != "idle")
        self.stop_button.setEnabled(state != "idle")
        self.preset_combo.setEnabled(state == "idle")
        self.retranslate()

    def _on_run_started(self, event: Started) -> None:
        self._total_steps = event.total_steps
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        self._labels["probes_value"].setText("–")

    def _on_step_logged(self, event: Step) -> None:
        self.progress.setValue(int(1000 * min(1.0, max(0.0, event.progress))))
        eta = event.elapsed_s * (1 - event.progress) / event.progress if event.progress > 0 else float("nan")
        self.progress.setFormat(f"%p% · {tr('剩余', 'ETA')} {duration(eta)}")
        total = f" / {self._total_steps}" if self._total_steps else ""
        self._labels["step_value"].setText(f"{event.step}{total} · {tr('损失', 'loss')} {event.loss:.3f}")
        self._labels["speed_value"].setText(f"{si(event.tokens_per_s)} tokens/s")
        self._labels["flops_value"].setText(f"{si(event.flops)}FLOPs")
        self._labels["a100_value"].setText(
            tr(f"≈ {duration(a100_seconds(event.flops))}（一张 A100，40 % MFU）",
               f"≈ {duration(a100_seconds(event.flops))} on one A100 at 40 % MFU"))

    def _on_evaluated(self, event: Eval) -> None:
        m = event.metrics
        parts = [f"{tr('验证损失', 'val loss')} {event.val_loss:.3f}"]
        if "coref_acc" in m:
            chance = f"（{tr('随机', 'chance')} {m['coref_chance']:.2f}）" if "coref_chance" in m else ""
            parts.append(f"{tr('指代准确率', 'coreference')} {m['coref_acc']:.2f}{chance}")
        if "neighbor_purity" in m:
            chance = f"（{tr('随机', 'chance')} {m['neighbor_chance']:.2f}）" if "neighbor_chance" in m else ""
            parts.append(f"{tr('近邻纯度', 'neighbour purity')} {m['neighbor_purity']:.2f}{chance}")
        self._labels["probes_value"].setText("\n".join(parts))

    def _on_run_finished(self, event: Done) -> None:
        if event.reason != "stopped":
            self.progress.setValue(1000)
        self.progress.setFormat(f"%p% · {_reason(event.reason)}")

    def _on_run_failed(self, event: Failed) -> None:
        self.progress.setFormat(f"%p% · {tr('失败', 'failed')}")
        self.message.setText(tr("训练失败：", "Training failed: ") + event.message)


def _reason(reason: str) -> str:
    return {"stopped": tr("已停止", "stopped"), "finished": tr("完成", "finished"),
            "time": tr("时间到", "time is up")}.get(reason, reason)


def _stamp() -> str:
    import time

    now = time.time()
    return time.strftime("%Y%m%d-%H%M%S", time.localtime(now)) + f"-{int(now * 1000) % 1000:03d}"
