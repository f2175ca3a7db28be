"""The panel registry: the main window loops over PANELS, builds each panel with the shared AppContext,
wraps it in a QDockWidget named `id`, and adds the dock's toggle action to the View menu.

A panel is a QWidget subclass constructed as `Panel(context)`; it sets its own objectName, connects to
`context.session` signals it needs, and implements `retranslate()` (called when the language changes)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module


@dataclass(frozen=True)
class PanelSpec:
    id: str  # the dock's objectName (tests and QSettings use it)
    title_zh: str
    title_en: str
    factory: str  # "module:Class", imported when the window is built
    area: str  # "left", "right", "top" or "bottom"

    def load(self):
        module, _, name = self.factory.partition(":")
        return getattr(import_module(module), name)


# One line per panel; the order here is the order docks are created in.
PANELS: list[PanelSpec] = [
    PanelSpec("lessonDock", "课程", "Lesson", "gui.panels.lesson.panel:LessonPanel", "left"),
    PanelSpec("trainingDock", "训练", "Training", "gui.panels.training.panel:TrainingPanel", "left"),
    PanelSpec("lossDock", "损失曲线", "Loss", "gui.panels.loss_panel:LossPanel", "left"),
    PanelSpec("embeddingDock", "词向量", "Word vectors", "gui.panels.embedding:EmbeddingPanel", "right"),
    PanelSpec("attentionDock", "注意力", "Attention", "gui.panels.attention.panel:AttentionPanel", "right"),
    PanelSpec("clozeDock", "完形填空", "Fill in the blank", "gui.panels.cloze_panel:ClozePanel", "right"),
    PanelSpec("tokenizerDock", "分词器", "Tokenizer", "gui.panels.tokenizer_panel:TokenizerPanel", "right"),
    PanelSpec("distillDock", "知识蒸馏", "Distillation", "gui.panels.distill.panel:DistillPanel", "right"),
    PanelSpec("costDock", "算力与成本", "Compute and cost", "gui.panels.cost.panel:CostPanel", "right"),
]
