""" "Your run vs GPT-3": the FLOPs a finished training run spent, the FLOP/s it reached on this CPU, its MFU
against a measured matmul ceiling, and how many times bigger GPT-3 and DeepSeek-V3 were."""

from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from core import units
from core.cost import flops as F
from gui.i18n import language, tr


class YourRunView(QWidget):
    """Fed by `show_run(metrics)` (a Done event's metrics) and `set_cpu_peak(flops_per_s, how)`."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("yourRunView")
        self.metrics: dict | None = None
        self.cpu_peak: float | None = None
        self.cpu_peak_how = ""  # "metrics" (the run measured it) or "matmul" (measured here)
        self.intro = QLabel(wordWrap=True, objectName="runIntro")
        self.values = {
            k: QLabel("—", objectName=f"run_{k}")
            for k in ("flops", "elapsed", "achieved", "peak", "mfu", "gpt3", "deepseek")
        }
        self.names = {k: QLabel() for k in self.values}
        self.measure_button = QPushButton(objectName="runMeasurePeak")
        form = QFormLayout()
        for k, label in self.values.items():
            label.setWordWrap(True)
            form.addRow(self.names[k], label)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(form)
        layout.addWidget(self.measure_button)
        layout.addStretch(1)
        self.retranslate()

    def show_run(self, metrics: dict) -> None:
        self.metrics = dict(metrics)
        if metrics.get("peak_flops"):
            self.set_cpu_peak(float(metrics["peak_flops"]), "metrics")
        self._refresh()

    def set_cpu_peak(self, flops_per_s: float, how: str) -> None:
        self.cpu_peak, self.cpu_peak_how = flops_per_s, how
        self._refresh()

    def figures(self) -> dict[str, float | None]:
        """The numbers on screen: spent FLOPs, achieved FLOP/s, MFU and the two ratios."""
        m = self.metrics or {}
        spent = float(m.get("flops") or 0.0)
        elapsed = float(m.get("elapsed_s") or 0.0)
        achieved = spent / elapsed if elapsed > 0 else None
        gpt3, dsv3 = F.preset("gpt3"), F.preset("deepseek_v3")
        return {
            "flops": spent,
            "elapsed_s": elapsed,
            "achieved": achieved,
            "mfu": achieved / self.cpu_peak if achieved and self.cpu_peak else None,
            "gpt3_ratio": gpt3.flops / spent if spent > 0 else None,
            "deepseek_ratio": dsv3.flops / spent if spent > 0 else None,
        }

    def retranslate(self) -> None:
        self.intro.setText(
            tr(
                "训练一次模型后，这里对比你花的算力和 GPT-3、DeepSeek-V3。",
                "After a training run, this compares the compute you spent with GPT-3 and DeepSeek-V3.",
            )
        )
        names = {
            "flops": tr("花掉的 FLOPs", "FLOPs spent"),
            "elapsed": tr("用时", "Wall time"),
            "achieved": tr("实际 FLOP/s", "Achieved FLOP/s"),
            "peak": tr("本机峰值", "This CPU's peak"),
            "mfu": "MFU",
            "gpt3": tr("GPT-3 是你的", "GPT-3 is"),
            "deepseek": tr("DeepSeek-V3 是你的", "DeepSeek-V3 is"),
        }
        for k, text in names.items():
            self.names[k].setText(text)
        self.measure_button.setText(
            tr("测量本机峰值（约 1 秒矩阵乘法）", "Measure this CPU's peak (~1 s of matmuls)")
        )
        self._refresh()

    def _refresh(self) -> None:
        if self.metrics is None:
            for label in self.values.values():
                label.setText("—")
            return
        f, lang = self.figures(), language()
        self.values["flops"].setText(f"{units.format_sci(f['flops'])} FLOPs")
        self.values["elapsed"].setText(units.format_duration(f["elapsed_s"], lang))
        self.values["achieved"].setText(f"{units.format_sci(f['achieved'])} FLOP/s" if f["achieved"] else "—")
        if self.cpu_peak:
            how = (
                tr("训练记录中测得", "measured by the run")
                if self.cpu_peak_how == "metrics"
                else tr("fp32 512×512 矩阵乘法实测", "measured: fp32 512×512 matmuls")
            )
            self.values["peak"].setText(f"{units.format_sci(self.cpu_peak)} FLOP/s ({how})")
        else:
            self.values["peak"].setText(
                tr("未知：点下面的按钮测量", "unknown: press the button below to measure")
            )
        self.values["mfu"].setText(f"{f['mfu']:.1%}" if f["mfu"] is not None else "—")
        times = tr("倍", "×")
        for key, ratio in (("gpt3", f["gpt3_ratio"]), ("deepseek", f["deepseek_ratio"])):
            self.values[key].setText(f"{units.format_sci(ratio)} {times}" if ratio else "—")
