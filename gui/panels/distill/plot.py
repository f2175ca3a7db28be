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
        self._stale = False
        self.curves = {}
        for name, colour in (("distilled", DISTILLED), ("scratch", SCRATCH)):
            pen = pg.mkPen(colour, width=2)
            kw = dict(pen=pen, symbol="o", symbolSize=4, symbolBrush=colour, symbolPen=None)
            self.curves[name] = (self.loss.plot(**kw), self.coref.plot(**kw))
        dash = pg.mkPen(TEACHER, width=1.5, style=Qt.PenStyle.DashLine)
        self.teacher_line = pg.InfiniteLine(angle=0, pen=dash)
        self._teacher_key = pg.PlotDataItem(pen=dash)  # the legend's sample for the line (not plotted)
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
        self.legend.addItem(self._teacher_key, tr("老师（验证损失）", "teacher (validation loss)"))

    def reset(self) -> None:
        """Empty the curves for a new race (not `clear`: GraphicsLayoutWidget forwards that name to its layout,
        which would remove the plots themselves)."""
        for loss, coref in self.series.values():
            loss.clear()
            coref.clear()
        self._stale = True  # the old curves stay until the new race's first evaluation replaces them

    def add_eval(self, step: int, metrics: dict) -> None:
        """One evaluation of the race (Eval.metrics: plain keys for the distilled student, scratch_… for
        the lone one, teacher_val_loss)."""
        self.add_evals([(step, metrics)])

    def add_evals(self, evals: list[tuple[int, dict]]) -> None:
        """Several evaluations, drawn once: a recorded race redrawn per evaluation held the window 2 s."""
        if not evals:
            return
        for step, metrics in evals:
            for name, prefix in (("distilled", ""), ("scratch", "scratch_")):
                if f"{prefix}val_loss" in metrics:
                    loss, coref = self.series[name]
                    loss.append(step, metrics[f"{prefix}val_loss"])
                    coref.append(step, metrics.get(f"{prefix}coref_acc", 0.0))
            if metrics.get("teacher_val_loss") is not None:
                self.teacher_line.setValue(metrics["teacher_val_loss"])
                self.teacher_line.setVisible(True)
        self._redraw()
        self._focus_loss()
        last = max(s[0].x[-1] for s in self.series.values() if s[0].n)
        self.loss.setXRange(0, max(last, 1), padding=0.02)

    def _focus_loss(self) -> None:
        """Once both losses are near the teacher's, show the last stretch: the race is decided in hundredths
        of a nat there, invisible on an axis that starts at the untrained 4.9."""
        lows = [s[0].y.min() for s in self.series.values() if s[0].n]
        if not lows or min(lows) > 1.2:
            self.loss.enableAutoRange(y=True)
            return
        floor = min([*lows, self.teacher_line.value() if self.teacher_line.isVisible() else min(lows)])
        self.loss.setYRange(floor - 0.03, 1.3, padding=0)

    def _redraw(self) -> None:
        for name, (loss, coref) in self.series.items():
            if not loss.n:
                continue
            for curve, series in zip(self.curves[name], (loss, coref), strict=True):
                curve.setData(series.x, series.y)
        self._stale = False

    def points(self, name: str) -> int:
        """How many evaluations of `name` ("distilled" or "scratch") are drawn (tests read this)."""
        curve = self.curves[name][0]
        x = curve.getData()[0]
        return 0 if x is None or self._stale else len(x)
