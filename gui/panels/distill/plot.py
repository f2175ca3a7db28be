"""`distillPlot`: the race live — validation loss of both students with the teacher's as a line (top), and
coreference top-1 of both with the 0.95 goal (bottom). Items are created once; new evaluations only append
to buffers and `setData` (evaluations come ~30 times a race, so no further throttle is needed)."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt

from gui.i18n import tr
from gui.widgets.series import Series

DISTILLED = (214, 39, 40)
SCRATCH = (31, 119, 180)
TEACHER = (90, 90, 90)


class RacePlot(pg.GraphicsLayoutWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("distillPlot")
        self.setBackground("w")
        self.setMinimumHeight(260)
        self.loss = self.addPlot(row=0, col=0)
        self.coref = self.addPlot(row=1, col=0)
        self.coref.setXLink(self.loss)
        self.coref.setYRange(0, 1.02, padding=0)
        self.series = {name: (Series(64), Series(64)) for name in ("distilled", "scratch")}
        self.curves = {}
        for name, colour in (("distilled", DISTILLED), ("scratch", SCRATCH)):
            pen = pg.mkPen(colour, width=2)
            kw = dict(pen=pen, symbol="o", symbolSize=4, symbolBrush=colour, symbolPen=None)
            self.curves[name] = (self.loss.plot(**kw), self.coref.plot(**kw))
        dash = pg.mkPen(TEACHER, width=1.5, style=Qt.PenStyle.DashLine)
        self.teacher_line = pg.InfiniteLine(angle=0, pen=dash)
        self.teacher_line.setVisible(False)
        self.loss.addItem(self.teacher_line)
        self.goal_line = pg.InfiniteLine(
            0.95, angle=0, pen=pg.mkPen((60, 160, 60), width=1, style=Qt.PenStyle.DotLine)
        )
        self.coref.addItem(self.goal_line)
        for p in (self.loss, self.coref):
            p.showGrid(x=True, y=True, alpha=0.2)
            for axis in ("left", "bottom"):
                p.getAxis(axis).enableAutoSIPrefix(False)
        self.legend = self.loss.addLegend(offset=(-10, 10))
        self.retranslate()

    def retranslate(self) -> None:
        self.loss.setLabel("left", tr("验证损失", "validation loss"))
        self.coref.setLabel("left", tr("它→猫 top-1", "它→猫 top-1"))
        self.coref.setLabel("bottom", tr("步数", "step"))
        self.legend.clear()
        self.legend.addItem(self.curves["distilled"][0], tr("蒸馏学生", "distilled student"))
        self.legend.addItem(self.curves["scratch"][0], tr("单独学习", "learning alone"))
        self.teacher_line.label = None

    def clear(self) -> None:
        for loss, coref in self.series.values():
            loss.clear()
            coref.clear()
        self.teacher_line.setVisible(False)
        self._redraw()

    def add_eval(self, step: int, metrics: dict) -> None:
        """One evaluation of the race (Eval.metrics: plain keys for the distilled student, scratch_… for
        the lone one, teacher_val_loss)."""
        for name, prefix in (("distilled", ""), ("scratch", "scratch_")):
            if f"{prefix}val_loss" in metrics:
                loss, coref = self.series[name]
                loss.append(step, metrics[f"{prefix}val_loss"])
                coref.append(step, metrics.get(f"{prefix}coref_acc", 0.0))
        if metrics.get("teacher_val_loss") is not None:
            self.teacher_line.setValue(metrics["teacher_val_loss"])
            self.teacher_line.setVisible(True)
        self._redraw()

    def _redraw(self) -> None:
        for name, (loss, coref) in self.series.items():
            self.curves[name][0].setData(loss.x, loss.y)
            self.curves[name][1].setData(coref.x, coref.y)

    def points(self, name: str) -> int:
        """How many evaluations of `name` ("distilled" or "scratch") are drawn (tests read this)."""
        return len(self.curves[name][0].getData()[0] if self.curves[name][0].getData()[0] is not None else [])
