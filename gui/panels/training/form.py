"""The training form: a preset plus the fields a learner may change, turned into validated engine configs.

Spin ranges mirror ModelConfig.validate / TrainConfig.validate; `validate()` still has the last word and
its message is what the panel shows, so the bounds live in one place (core.config)."""

from __future__ import annotations

import dataclasses
import os

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QWidget,
)

from core.config import PRESETS, ConfigError, ModelConfig, TrainConfig
from gui.i18n import language, tr

# On first launch: the one-minute demo that visibly learns 它 → 猫 ("tiny" is quick but learns nothing).
FIRST_PRESET = "default"
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


def _pair(a: QWidget, b: QWidget) -> QWidget:
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(a)
    row.addWidget(b)
    return box


class TrainForm(QWidget):
    """Emits `preset_chosen(name)` so the panel can remember the last preset."""

    preset_chosen = Signal(str)

    def __init__(self, preset: str = FIRST_PRESET) -> None:
        super().__init__()
        self._corpus_file = ""
        self._labels: dict[str, QLabel] = {}
        self.preset_combo = QComboBox(objectName="presetCombo")
        for name in PRESETS:
            self.preset_combo.addItem(name, name)
        self.objective = QComboBox(objectName="objectiveCombo")
        self.objective.addItems(["", ""])
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

        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        rows = [
            ("preset", self.preset_combo, None, None),
            ("objective", self.objective, "layers", self.layers),
            ("heads", self.heads, "width", self.width),
            ("context", self.context_len, "lr", self.lr),
            ("budget", self.budget_kind, None, _pair(self.steps, self.seconds)),
            ("seed", self.seed, None, None),
            ("corpus", self.corpus, None, self.browse),
        ]
        for row, (left_key, left, right_key, right) in enumerate(rows):
            grid.addWidget(self._label(left_key), row, 0)
            # A row without a second label: the left field takes the label's column too, so a long choice
            # ("small world · English") is not cut in a narrow column.
            grid.addWidget(left, row, 1, 1, 1 if right_key else 2 if right is not None else 3)
            if right_key:
                grid.addWidget(self._label(right_key), row, 2)
            if right is not None:
                grid.addWidget(right, row, 3)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)

        self.preset_combo.currentIndexChanged.connect(self._on_preset_chosen)
        self.budget_kind.currentIndexChanged.connect(self._on_budget_kind_changed)
        self.corpus.currentIndexChanged.connect(self._on_corpus_chosen)
        self.browse.clicked.connect(lambda: self.choose_corpus_file())
        self.preset_combo.setCurrentIndex(max(0, self.preset_combo.findData(preset)))
        self._on_preset_chosen()
        self.retranslate()

    def _label(self, key: str) -> QLabel:
        self._labels[key] = QLabel()
        return self._labels[key]

    def retranslate(self) -> None:
        names = {
            "preset": tr("预设", "Preset"),
            "objective": tr("目标", "Objective"),
            "layers": tr("层数", "Layers"),
            "heads": tr("注意力头", "Heads"),
            "width": tr("宽度", "Width"),
            "context": tr("上下文", "Context"),
            "lr": tr("学习率", "Learning rate"),
            "budget": tr("训练量", "Budget"),
            "seed": tr("随机种子", "Seed"),
            "corpus": tr("语料", "Corpus"),
        }
        for key, text in names.items():
            self._labels[key].setText(text)
        for i, name in enumerate(PRESETS):
            self.preset_combo.setItemText(i, f"{name} — {tr(*PRESET_NOTES.get(name, (name, name)))}")
        self.objective.setItemText(0, tr("接龙（GPT）", "next token (GPT)"))
        self.objective.setItemText(1, tr("完形填空", "fill the blank"))
        self.budget_kind.setItemText(0, tr("步数", "steps"))
        self.budget_kind.setItemText(1, tr("秒数", "seconds"))
        self.corpus.setItemText(0, tr("小世界 · 中文", "small world · Chinese"))
        self.corpus.setItemText(1, tr("小世界 · 英文", "small world · English"))
        self.corpus.setItemText(2, os.path.basename(self._corpus_file) or tr("文本文件…", "text file…"))
        self.browse.setText(tr("选择文件…", "Choose file…"))
        self._follow_language()

    def _follow_language(self) -> None:
        """The world corpus is the interface's language (a reader of English trains the English world), unless
        a text file is chosen or a run is shown in the form."""
        if self.corpus.currentIndex() in (0, 1) and self.corpus.isEnabled():
            self.corpus.setCurrentIndex(1 if language() == "en" else 0)

    def set_locked(self, locked: bool) -> None:
        """While a run goes, the form shows what is running and cannot be edited."""
        for child in self.findChildren(QWidget):
            if not isinstance(child, QLabel):
                child.setEnabled(not locked)

    def preset(self) -> str:
        return self.preset_combo.currentData()

    def _on_preset_chosen(self, *_) -> None:
        preset = PRESETS[self.preset()]
        m, t = preset.model, preset.train
        self.objective.setCurrentIndex(1 if m.objective == "masked" else 0)
        self.layers.setValue(m.n_layer)
        self.heads.setValue(m.n_head)
        self.width.setValue(m.n_embd)
        self.context_len.setValue(m.block_size)
        self.lr.setValue(preset.train_for(self._lang()).lr)
        self.budget_kind.setCurrentIndex(0 if t.steps else 1)
        self.steps.setValue(t.steps or 600)
        self.seconds.setValue(t.seconds)
        self.seed.setValue(t.seed)
        self._on_budget_kind_changed()
        self.preset_chosen.emit(preset.name)

    def _on_budget_kind_changed(self, *_) -> None:
        self.steps.setVisible(self.budget_kind.currentIndex() == 0)
        self.seconds.setVisible(self.budget_kind.currentIndex() == 1)

    def _lang(self) -> str:
        return "en" if self.corpus.currentIndex() == 1 else "zh"

    def _on_corpus_chosen(self, index: int) -> None:
        if index == 2 and not self._corpus_file:
            self.choose_corpus_file()
        # The preset's rate for this language, unless the user typed one of their own.
        preset = PRESETS[self.preset()]
        if self.lr.value() in {preset.train_for(lang).lr for lang in ("zh", "en")}:
            self.lr.setValue(preset.train_for(self._lang()).lr)

    def choose_corpus_file(self, path: str | None = None) -> None:
        if not path:
            path, _ = QFileDialog.getOpenFileName(
                self,
                tr("选择 UTF-8 文本", "Choose a UTF-8 text file"),
                "",
                tr("文本 (*.txt);;全部 (*)", "Text (*.txt);;All (*)"),
            )
        if path:
            self._corpus_file = path
            self.corpus.setCurrentIndex(2)
        elif not self._corpus_file:
            self.corpus.setCurrentIndex(0)
        self.retranslate()

    def corpus_path(self) -> str | None:
        """None for the world corpus; the chosen file otherwise (ConfigError when it is missing)."""
        if self.corpus.currentIndex() != 2:
            return None
        if not os.path.isfile(self._corpus_file):
            raise ConfigError(tr("找不到语料文件：", "Corpus file not found: ") + (self._corpus_file or "–"))
        return self._corpus_file

    def configs(self) -> tuple[ModelConfig, TrainConfig]:
        """The form as engine configs, validated (raises ConfigError with the engine's message)."""
        preset = PRESETS[self.preset()]
        model = dataclasses.replace(
            preset.model,
            objective="masked" if self.objective.currentIndex() else "causal",
            n_layer=self.layers.value(),
            n_head=self.heads.value(),
            n_embd=self.width.value(),
            block_size=self.context_len.value(),
        )
        by_steps = self.budget_kind.currentIndex() == 0
        train = dataclasses.replace(
            preset.train_for(self._lang()),
            lr=self.lr.value(),
            steps=self.steps.value() if by_steps else 0,
            seconds=preset.train.seconds if by_steps else self.seconds.value(),
            seed=self.seed.value(),
        )
        return model.validate(), train.validate()
