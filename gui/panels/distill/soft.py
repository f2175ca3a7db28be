"""The soft-label view: teacher and student next-token distributions for one sentence, side by side, one
temperature slider for both. The forward passes run in a worker on typing (debounced); the slider only
re-applies the temperature to the logits already there, so dragging it costs nothing."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QLineEdit, QSlider, QWidget

from gui.i18n import tr
from gui.widgets.probability_bars import ProbabilityBars

ARTICLE_TEXT = (
    "猫坐在垫子上，它很舒服。它是＿"  # = core.distill.soft_labels.ARTICLE_TEXT (no torch import here)
)
MAX_CHARS = 400


def pct(p: float) -> str:
    """85%, 1.5%, 0.02%: small shares keep a digit, or the wrong answers would all read 0%."""
    return f"{p:.0%}" if p >= 0.095 else f"{p:.1%}" if p >= 0.001 else f"{p:.2%}"


class SoftLabelView(QWidget):
    text_edited = Signal(str)  # debounced: the panel computes logits for it in a worker

    def __init__(self) -> None:
        super().__init__()
        self.input = QLineEdit(ARTICLE_TEXT, objectName="distillSoftInput", maxLength=MAX_CHARS)
        self.temperature = QSlider(
            Qt.Orientation.Horizontal, objectName="distillSoftTemperature", minimum=1, maximum=50, value=10
        )
        self.temp_label = QLabel()
        self.teacher_title, self.student_title = QLabel(), QLabel()
        self.teacher_bars = ProbabilityBars(max_rows=8)
        self.teacher_bars.setObjectName("distillSoftTeacher")
        self.student_bars = ProbabilityBars(max_rows=8)
        self.student_bars.setObjectName("distillSoftStudent")
        self.note = QLabel(objectName="distillSoftNote", wordWrap=True)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.input, 0, 0, 1, 2)
        grid.addWidget(self.temp_label, 1, 0)
        grid.addWidget(self.temperature, 1, 1)
        grid.addWidget(self.teacher_title, 2, 0)
        grid.addWidget(self.student_title, 2, 1)
        grid.addWidget(self.teacher_bars, 3, 0)
        grid.addWidget(self.student_bars, 3, 1)
        grid.addWidget(self.note, 4, 0, 1, 2)
        self._labels: list[str] = []
        self._teacher = self._student = None  # logits (np.ndarray) for the current text
        self._student_name = ""
        self._timer = QTimer(self, singleShot=True, interval=150)
        self._timer.timeout.connect(lambda: self.text_edited.emit(self.input.text()))
        self.input.textChanged.connect(lambda _t: self._timer.start())
        self.temperature.valueChanged.connect(lambda _v: self.show_rows())
        self.retranslate()

    def temperature_value(self) -> float:
        return self.temperature.value() / 10.0

    def set_temperature(self, t: float) -> None:
        self.temperature.setValue(int(round(t * 10)))

    def retranslate(self) -> None:
        self.input.setPlaceholderText(
            tr("输入一句话，＿ 标出要预测的位置", "Type a sentence; ＿ marks the position")
        )
        self.show_rows()

    def set_logits(
        self, labels: list[str], teacher: np.ndarray, student: np.ndarray, student_name: str
    ) -> None:
        self._labels, self._teacher, self._student, self._student_name = labels, teacher, student, student_name
        self.show_rows()

    def rows(self) -> list[tuple[str, float, float]]:
        if self._teacher is None:
            return []
        from core.distill.soft_labels import rows  # numpy only, but keep core imports lazy here

        return rows(self._labels, self._teacher, self._student, self.temperature_value())

    def show_rows(self) -> None:
        t = self.temperature_value()
        self.temp_label.setText(tr(f"温度 T = {t:.1f}", f"temperature T = {t:.1f}"))
        self.teacher_title.setText(tr("老师（4×128）的软标签", "the teacher's soft labels (4×128)"))
        name = self._student_name() if callable(self._student_name) else self._student_name
        self.student_title.setText(name or tr("学生", "student"))
        rows = self.rows()
        self.teacher_bars.set_items([(w, pt) for w, pt, _ in rows])
        self.student_bars.set_items([(w, ps) for w, _, ps in rows])
        if rows:
            top = rows[0]
            self.note.setText(
                tr(
                    f"老师说“{top[0]}”的概率是 {pct(top[1])}，其余分给 "
                    + "、".join(f"{w} {pct(p)}" for w, p, _ in rows[1:3])
                    + "……这些“错误答案”的概率，正是学生从老师那里多学到的东西。T 越大，分布越平。",
                    f"The teacher gives '{top[0]}' {pct(top[1])}, the rest to "
                    + ", ".join(f"{w} {pct(p)}" for w, p, _ in rows[1:3])
                    + "… those shares of the wrong answers are what a student learns beyond the label. "
                    "A higher T flattens both.",
                )
            )
        else:
            self.note.setText(tr("老师和学生加载后显示。", "Shown once the teacher and a student are loaded."))
