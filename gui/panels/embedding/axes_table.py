"""The "personality tag" table: rows are words, columns are axes (two word groups each). Every cell gives
the trained model's score, the untrained model's beside it, and the article's illustrative number where
it has one, labelled as the article's. Axes are edited in a small dialog."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.embeddings.vectors import ARTICLE_TAGS, Axis, Score
from gui.i18n import tr

SPLIT = re.compile(r"[\s,，、;；]+")


def split_words(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(w for w in SPLIT.split(text.strip()) if w))


def score_text(score: Score | None) -> str:
    if score is None:
        return "…"
    if score.value is not None:
        return f"{score.value:+.2f}" + (" *" if score.reason.startswith("left_out") else "")
    if score.reason == "unknown_word":
        return tr(f"不在词表：{score.detail}", f"not in vocabulary: {score.detail}")
    return (
        tr("A 组为空", "group A is empty") if score.reason == "empty_a" else tr("B 组为空", "group B is empty")
    )


class AxisDialog(QDialog):
    """Name and the two groups of one axis, words separated by spaces or commas."""

    def __init__(self, axis: Axis | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("编辑轴", "Edit axis"))
        self.name = QLineEdit(axis.name if axis else "", objectName="axisName")
        self.group_a = QLineEdit(" ".join(axis.a) if axis else "", objectName="axisGroupA")
        self.group_b = QLineEdit(" ".join(axis.b) if axis else "", objectName="axisGroupB")
        form = QFormLayout(self)
        form.addRow(tr("名字", "Name"), self.name)
        form.addRow(tr("A 组（+1）", "Group A (+1)"), self.group_a)
        form.addRow(tr("B 组（−1）", "Group B (−1)"), self.group_b)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def axis(self) -> Axis:
        a, b = split_words(self.group_a.text()), split_words(self.group_b.text())
        name = self.name.text().strip() or f"{'·'.join(a[:2])} ↔ {'·'.join(b[:2])}"
        return Axis(name, a, b)


class AxesTable(QWidget):
    """Emits `axes_changed(list[Axis])` and `words_changed(tuple[str])` when the user edits them."""

    axes_changed = Signal(list)
    words_changed = Signal(tuple)

    def __init__(self) -> None:
        super().__init__()
        self._axes: list[Axis] = []
        self._words: tuple[str, ...] = ()
        self.table = QTableWidget(objectName="axesTable")
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().sectionDoubleClicked.connect(self.edit_axis)
        self.words_edit = QLineEdit(objectName="axesWords")
        self.words_edit.editingFinished.connect(self._on_words_edited)
        self.add_button = QPushButton(objectName="axesAdd")
        self.edit_button = QPushButton(objectName="axesEdit")
        self.remove_button = QPushButton(objectName="axesRemove")
        self.add_button.clicked.connect(lambda: self.edit_axis(-1))
        self.edit_button.clicked.connect(lambda: self.edit_axis(max(0, self.table.currentColumn())))
        self.remove_button.clicked.connect(self._remove_current)
        self.words_label = QLabel()
        self.note = QLabel(objectName="axesNote", wordWrap=True)
        row = QHBoxLayout()
        row.addWidget(self.words_label)
        row.addWidget(self.words_edit, 1)
        for b in (self.add_button, self.edit_button, self.remove_button):
            row.addWidget(b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note)
        self.retranslate()

    def retranslate(self) -> None:
        self.words_label.setText(tr("词：", "Words:"))
        self.add_button.setText(tr("添加轴", "Add axis"))
        self.edit_button.setText(tr("编辑轴", "Edit axis"))
        self.remove_button.setText(tr("删除轴", "Remove"))
        self.note.setText(
            tr(
                "每格第一行：本模型的分数（A 组平均 = +1，B 组平均 = −1）；第二行：同样大小、未训练的模型"
                "（随机水平：单个分数可以落在 −1 到 1 的任何地方；共用一个字的词，如垫子和椅子，"
                "未训练时也相近）。* 表示这个词属于轴的一组，它的分数来自不含它自己的轴。"
                "“文章”是原文为举例编的数字，不是测出来的。",
                "First line of a cell: this model's score (group A's mean = +1, group B's mean = −1); "
                "second: an untrained model of the same shape (chance: one score may land anywhere from −1 "
                "to 1, and words sharing a character, such as 垫子 and 椅子, agree even untrained). "
                "* marks a word in one of the axis's groups, scored on the axis built without it. 'Article' "
                "numbers are the article's own invented illustration, not measured.",
            )
        )

    def axes(self) -> list[Axis]:
        return list(self._axes)

    def words(self) -> tuple[str, ...]:
        return self._words

    def set_axes(self, axes: list[Axis]) -> None:
        self._axes = list(axes)

    def set_words(self, words) -> None:
        self._words = tuple(words)
        self.words_edit.setText(" ".join(self._words))

    def show_scores(self, trained: dict, untrained: dict | None) -> None:
        """trained/untrained: {word: {axis name: Score}} (untrained may be None while it is computed)."""
        t = self.table
        t.setRowCount(len(self._words))
        t.setColumnCount(len(self._axes))
        t.setHorizontalHeaderLabels([a.name for a in self._axes])
        t.setVerticalHeaderLabels(list(self._words))
        for r, word in enumerate(self._words):
            for c, axis in enumerate(self._axes):
                score = trained.get(word, {}).get(axis.name)
                lines = [score_text(score)]
                base = (untrained or {}).get(word, {}).get(axis.name)
                if score is not None and score.value is not None:
                    lines.append(tr("未训练 ", "untrained ") + (score_text(base) if base else "…"))
                article = ARTICLE_TAGS.get(axis.name, {}).get(word)
                if article:
                    lines.append(tr("文章：", "article: ") + article)
                item = QTableWidgetItem("\n".join(lines))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if score is not None and score.reason.startswith("left_out"):
                    group = "A" if score.reason == "left_out_a" else "B"
                    item.setToolTip(
                        tr(
                            f"{word} 在 {group} 组里，这个分数来自去掉它之后的轴",
                            f"{word} is in group {group}; scored on the axis built without it",
                        )
                    )
                t.setItem(r, c, item)
        t.resizeColumnsToContents()
        t.resizeRowsToContents()

    def cell_text(self, word: str, axis_name: str) -> str:
        r, c = self._words.index(word), [a.name for a in self._axes].index(axis_name)
        item = self.table.item(r, c)
        return item.text() if item else ""

    def edit_axis(self, index: int) -> None:
        dialog = AxisDialog(self._axes[index] if 0 <= index < len(self._axes) else None, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.replace_axis(index, dialog.axis())

    def replace_axis(self, index: int, axis: Axis) -> None:
        """Put `axis` at `index` (a new column when index is out of range) and tell the panel."""
        if 0 <= index < len(self._axes):
            self._axes[index] = axis
        else:
            self._axes.append(axis)
        self.axes_changed.emit(self.axes())

    def _remove_current(self) -> None:
        c = self.table.currentColumn()
        if 0 <= c < len(self._axes):
            del self._axes[c]
            self.axes_changed.emit(self.axes())

    def _on_words_edited(self) -> None:
        words = split_words(self.words_edit.text())
        if words != self._words:
            self._words = words
            self.words_changed.emit(words)
