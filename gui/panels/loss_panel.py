"""Loss panel: training and validation loss, live. Curves are created once; events only append to numpy
buffers and mark the plot dirty, which arms a one-shot timer (at most ~30 fps, less when a repaint is
costly); it redraws when visible, so 100 000 points or a fast trainer never make the window stutter."""

from __future__ import annotations

import csv
import time

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from core.events import Eval, Started, Step
from gui.i18n import tr
from gui.widgets.series import Series
from gui.widgets.throttle import WhenVisible

MIN_INTERVAL_MS = 33  # ~30 fps: never faster than the eye needs
MAX_INTERVAL_MS = 500  # never slower than two updates a second
# Share of a core the loss plot may spend repainting. Every millisecond the GUI thread runs is one that a
# training thread loses on a 2-core machine, and the training threads wait for each other: at 2.5 % the
# run went 0.88-0.93x as fast as headless, at 1 % 0.98x (benchmarks/ui_latency.py). A repaint costs 5-7 ms,
# so while a run streams the curve is redrawn about twice a second.
DUTY = 0.01
TRAIN_COLOR = (31, 119, 180)
VAL_COLOR = (214, 39, 40)


class _TimedPlot(pg.PlotWidget):
    """Remembers how long its last paint took, so the redraw rate can follow the real cost."""

    last_paint_ms = 0.0

    def paintEvent(self, event) -> None:
        started = time.perf_counter()
        super().paintEvent(event)
        self.last_paint_ms = (time.perf_counter() - started) * 1000


class LossPanel(QWidget):
    """Train (raw, faint + EMA-smoothed) and validation curves against the step."""

    def __init__(self, context=None) -> None:
        super().__init__()
        self.setObjectName("lossPanel")
        self.train = Series()
        self.val = Series()
        self._live = False  # a run is streaming: axes fixed and grown in jumps
        self._x_max = self._y_max = 0.0
        self._range_pending = False
        self._dirty = False

        self.plot = _TimedPlot(background="w")
        self.plot.setObjectName("lossPlot")
        item = self.plot.getPlotItem()
        item.showGrid(x=True, y=True, alpha=0.2)
        self.legend = item.addLegend(offset=(-10, 10))
        self.raw_curve = item.plot(pen=pg.mkPen((*TRAIN_COLOR, 70), width=1))
        self.train_curve = item.plot(pen=pg.mkPen(TRAIN_COLOR, width=2))
        self.val_curve = item.plot(
            pen=pg.mkPen(VAL_COLOR, width=2), symbol="o", symbolSize=5, symbolBrush=VAL_COLOR, symbolPen=None
        )
        self.hint = pg.TextItem(color=(110, 110, 110), anchor=(0.5, 0.5))
        self.hint.setPos(0.5, 0.5)
        item.addItem(self.hint, ignoreBounds=True)
        for curve in (self.raw_curve, self.train_curve, self.val_curve):
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
        for axis in ("left", "bottom"):  # cached as pixmaps: a repaint then costs 6 ms, not 14 (measured)
            item.getAxis(axis).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

        self.log_box = QCheckBox(objectName="lossLogScale")
        self.smooth_label = QLabel()
        self.smooth = QSlider(Qt.Orientation.Horizontal, objectName="lossSmoothing", minimum=0, maximum=99)
        self.smooth.setValue(60)
        self.png_button = QPushButton(objectName="lossExportPng")
        self.csv_button = QPushButton(objectName="lossExportCsv")
        tools = QHBoxLayout()
        tools.addWidget(self.log_box)
        tools.addWidget(self.smooth_label)
        tools.addWidget(self.smooth, 1)
        tools.addWidget(self.png_button)
        tools.addWidget(self.csv_button)
        layout = QVBoxLayout(self)
        layout.addLayout(tools)
        layout.addWidget(self.plot, 1)

        self.log_box.toggled.connect(self._on_log_toggled)
        self.smooth.valueChanged.connect(self._on_smoothing_changed)
        self.png_button.clicked.connect(lambda: self.export_png())
        self.csv_button.clicked.connect(lambda: self.export_csv())
        self._timer = QTimer(self, interval=MIN_INTERVAL_MS, singleShot=True)  # armed by new data only
        self._timer.timeout.connect(self._redraw)
        self._redraw_when_seen = WhenVisible(self, self._timed_redraw)
        self._on_smoothing_changed(self.smooth.value())
        if context is not None:
            session = context.session
            session.run_started.connect(self._on_run_started)
            session.step_logged.connect(self._on_step_logged)
            session.evaluated.connect(self._on_evaluated)
            session.run_loaded.connect(self._on_run_loaded)
            session.run_finished.connect(self._on_run_ended)
            session.run_failed.connect(self._on_run_ended)
        self.retranslate()

    def retranslate(self) -> None:
        item = self.plot.getPlotItem()
        item.setLabel("bottom", tr("步数", "step"))
        item.setLabel("left", tr("损失（交叉熵）", "loss (cross-entropy)"))
        self.legend.clear()
        self.legend.addItem(self.train_curve, tr("训练", "train"))
        self.legend.addItem(self.val_curve, tr("验证", "validation"))
        self.log_box.setText(tr("对数坐标", "log scale"))
        self.smooth_label.setText(tr("平滑", "smoothing"))
        self.png_button.setText(tr("导出 PNG", "Export PNG"))
        self.csv_button.setText(tr("导出 CSV", "Export CSV"))
        self.hint.setText(
            tr("点「训练」，损失曲线会在这里实时出现", "Click Train: the loss curves appear here, live")
        )

    # --- events: buffer only ------------------------------------------------------------------------
    def clear(self) -> None:
        self.train.clear()
        self.val.clear()
        self._mark_dirty()

    def _on_run_started(self, event: Started) -> None:
        """A live run: fixed axes that grow in jumps, so the axes (costly to repaint) rarely change."""
        self.clear()
        self._live = True
        self._x_max = float(event.total_steps or 100)
        self._y_max = 0.0

    def _on_step_logged(self, event: Step) -> None:
        self.train.append(event.step, event.loss)
        self._mark_dirty()

    def _on_evaluated(self, event: Eval) -> None:
        self.val.append(event.step, event.val_loss)
        self._mark_dirty()

    def _on_run_ended(self, _event) -> None:
        """The last points are drawn now, not by the throttled timer up to half a second later (seen as a
        curve still growing after Train was enabled again)."""
        self._timer.stop()
        self.redraw()

    def _on_run_loaded(self, history) -> None:
        """A run folder: replace the curves in one go."""
        self.clear()
        self._live = False
        self.plot.getPlotItem().enableAutoRange()
        self.train.extend([s.step for s in history.steps], [s.loss for s in history.steps])
        self.val.extend([e.step for e in history.evals], [e.val_loss for e in history.evals])
        self.redraw()

    # --- drawing --------------------------------------------------------------------------------------
    def _on_log_toggled(self, on: bool) -> None:
        item = self.plot.getPlotItem()
        item.setLogMode(y=on)
        if on:
            item.enableAutoRange(y=True)
        self._range_pending = True
        self._mark_dirty()

    def _on_smoothing_changed(self, value: int) -> None:
        self.train.set_alpha(value / 100)
        self.smooth.setToolTip(f"EMA {value / 100:.2f}")
        self._mark_dirty()

    def _mark_dirty(self) -> None:
        self._dirty = True
        if not self._timer.isActive():
            self._timer.start()

    def _redraw(self) -> None:
        """Timer tick: redraw, then space the next one so repainting takes at most DUTY of the GUI thread's
        time (never faster than screen rate, never slower than MAX_INTERVAL_MS). Behind another tab, the
        redraw waits until the plot is shown."""
        if self._dirty:
            self._redraw_when_seen()

    def _timed_redraw(self) -> None:
        if self._dirty:
            started = time.perf_counter()
            self.redraw()  # the paint itself follows in this event-loop turn; its time is measured there
            cost_ms = (time.perf_counter() - started) * 1000 + self.plot.last_paint_ms
            self._timer.setInterval(int(min(MAX_INTERVAL_MS, max(MIN_INTERVAL_MS, cost_ms / DUTY))))

    def redraw(self) -> None:
        """Push the buffers to the existing curves (views, no copies)."""
        self._dirty = False
        self.hint.setVisible(self.train.n == 0 and self.val.n == 0)
        self.raw_curve.setData(self.train.x, self.train.y)
        self.train_curve.setData(self.train.x, self.train.smoothed)
        self.val_curve.setData(self.val.x, self.val.y)
        if self._live and self.train.n:
            self._fit_live_range()

    def _fit_live_range(self) -> None:
        x_max = max(self._x_max, float(self.train.x[-1]))
        if x_max > self._x_max:  # a run bounded by seconds: double the axis when the curve reaches its end
            x_max = max(x_max, 2 * self._x_max)
        y_max = max(
            self._y_max, float(self.train.y.max()) * 1.05, float(self.val.y.max()) * 1.05 if self.val.n else 0
        )
        if (x_max, y_max) != (self._x_max, self._y_max) or self._range_pending:
            self._x_max, self._y_max, self._range_pending = x_max, y_max, False
            item = self.plot.getPlotItem()
            item.setXRange(0, x_max, padding=0.02)
            if not self.log_box.isChecked():
                item.setYRange(0, y_max, padding=0)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._mark_dirty()

    # --- export ---------------------------------------------------------------------------------------
    def export_png(self, path: str | None = None) -> bool:
        path = (
            path
            or QFileDialog.getSaveFileName(self, tr("导出图片", "Export image"), "loss.png", "PNG (*.png)")[0]
        )
        if not path:
            return False
        self.redraw()
        return self.plot.grab().save(path)

    def export_csv(self, path: str | None = None) -> bool:
        path = (
            path
            or QFileDialog.getSaveFileName(self, tr("导出数据", "Export data"), "loss.csv", "CSV (*.csv)")[0]
        )
        if not path:
            return False
        rows = [(x, y, s, "") for x, y, s in zip(self.train.x, self.train.y, self.train.smoothed, strict=True)]
        rows += [(x, "", "", y) for x, y in zip(self.val.x, self.val.y, strict=True)]
        rows.sort(key=lambda r: r[0])
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["step", "train_loss", "train_loss_smoothed", "val_loss"])
            for x, y, s, v in rows:
                writer.writerow(
                    [
                        int(x),
                        y if y == "" else f"{y:.6g}",
                        s if s == "" else f"{s:.6g}",
                        v if v == "" else f"{v:.6g}",
                    ]
                )
        return True
