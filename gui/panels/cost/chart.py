"""Log–log chart of training days against GPU count, one line per GPU type, the user's fleet as a star.
Curves are created once and updated with setData; types the user has none of stay hidden (A100, H800
and H100, the article's three, are always drawn)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from core.cost import flops as F
from gui.i18n import tr

ALWAYS_PLOTTED = ("A100", "H800", "H100")
COLORS = {
    "A100": (44, 160, 44),
    "H800": (214, 39, 40),
    "H100": (31, 119, 180),
    "V100": (127, 127, 127),
    "H200": (148, 103, 189),
    "B200": (23, 190, 207),
    "H20": (255, 127, 14),
}
GPU_AXIS = np.logspace(0, 6, 61)  # 1 … 1,000,000 GPUs


class CostChart(pg.PlotWidget):
    def __init__(self, gpus: dict[str, F.Gpu]) -> None:
        super().__init__(background="w")
        self.setObjectName("costChart")
        self.gpus = gpus
        item = self.getPlotItem()
        item.setLogMode(x=True, y=True)
        item.showGrid(x=True, y=True, alpha=0.25)
        for axis in ("bottom", "left"):
            item.getAxis(axis).enableAutoSIPrefix(False)
        self.legend = item.addLegend(offset=(-10, 10))
        # H800 and H100 share one compute spec, so their lines coincide: H100 is dashed to let H800 show.
        styles = {"H100": Qt.PenStyle.DashLine}
        self.curves = {
            gid: item.plot(
                pen=pg.mkPen(
                    COLORS.get(gid, (90, 90, 90)), width=2, style=styles.get(gid, Qt.PenStyle.SolidLine)
                )
            )
            for gid in gpus
        }
        # A PlotDataItem (not a bare ScatterPlotItem) so the log mode applies to the marker too.
        self.fleet_marker = item.plot(
            pen=None, symbol="star", symbolSize=16, symbolBrush=(0, 0, 0), symbolPen=None
        )
        self.setMinimumHeight(180)

    def show_estimate(self, e: F.Estimate, counts: dict[str, int]) -> None:
        for gid, curve in self.curves.items():
            shown = e.flops > 0 and (gid in ALWAYS_PLOTTED or counts.get(gid, 0) > 0)
            if shown:
                peak = self.gpus[gid].peak_flops(e.precision) * e.mfu
                curve.setData(GPU_AXIS, e.flops / (GPU_AXIS * peak) / F.SECONDS_PER_DAY)
            if shown != curve.isVisible() or shown != (self.legend.getLabel(curve) is not None):
                curve.setVisible(shown)
                self.legend.removeItem(curve)
                if shown:
                    self.legend.addItem(curve, gid)
        if e.days and e.days > 0:
            self.fleet_marker.setData([e.n_gpus], [e.days])
        else:
            self.fleet_marker.setData([], [])

    def retranslate(self) -> None:
        self.getPlotItem().setLabel("bottom", tr("GPU 数量（★ 你的机群）", "Number of GPUs (★ your fleet)"))
        self.getPlotItem().setLabel("left", tr("训练天数", "Days of training"))
