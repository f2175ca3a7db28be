"""Compute & cost panel: pick a model and a GPU fleet, read time, GPU-hours, dollars, energy and memory
at once; a log–log chart of days against GPU count per type; the article's claims fact-checked; and the
user's own run next to GPT-3. All maths is core.cost.flops (pure functions, cheap enough per keystroke)."""

from __future__ import annotations

import math

from PySide6.QtCore import QLocale
from PySide6.QtGui import QDoubleValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core import units
from core.cost import flops as F
from gui.i18n import forget_listener, language, on_language_changed, tr
from gui.panels.cost.chart import CostChart
from gui.panels.cost.factcheck import FactCheckView
from gui.panels.cost.run import YourRunView
from gui.widgets.throttle import WhenVisible

READOUTS = ("costFlops", "costDays", "costGpuHours", "costUsd", "costEnergy", "costMemory")


def _number_input(name: str) -> QLineEdit:
    """Accepts 175e9, 1.75E11, 300000000000; the validator makes a minus sign impossible to type."""
    edit = QLineEdit(objectName=name)
    validator = QDoubleValidator(0.0, 1e30, 6, edit)
    validator.setNotation(QDoubleValidator.Notation.ScientificNotation)
    validator.setLocale(QLocale.c())
    edit.setValidator(validator)
    return edit


class CostPanel(QWidget):
    def __init__(self, context=None) -> None:
        super().__init__()
        self.setObjectName("costPanel")
        self.gpus = F.load_gpus()
        self.presets = F.load_presets()
        self._model = {"n_params_total": None, "seq_len": None, "n_layer": None, "d_model": None}
        self._my_run: dict | None = None
        self._estimate: F.Estimate | None = None
        # This CPU's matmul peak is measured once, after a run, when the panel is in view: a benchmark behind
        # another tab competed with every panel redrawing for the finished run.
        self._measure_when_seen = WhenVisible(self, self._on_measure_clicked, hold_unshown=False)

        self.preset = QComboBox(objectName="modelPreset")
        self.preset.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)  # names are long
        for p in self.presets.values():
            self.preset.addItem("", p.id)
        self.preset.addItem("", "my_run")
        self.preset.addItem("", "custom")
        self.params = _number_input("paramsInput")
        self.tokens = _number_input("tokensInput")
        self.precision = QComboBox(objectName="precisionInput")
        for p in F.PRECISIONS:
            self.precision.addItem(p.upper(), p)
        self.mfu = QDoubleSpinBox(objectName="mfuInput", minimum=0.01, maximum=1.0, singleStep=0.05, decimals=3)
        self.mfu.setValue(0.4)
        self.price = QDoubleSpinBox(
            objectName="priceInput", minimum=0.0, maximum=1000.0, singleStep=0.1, prefix="$"
        )
        self.pue = QDoubleSpinBox(objectName="pueInput", minimum=1.0, maximum=3.0, singleStep=0.05, value=1.2)
        self.shard = QCheckBox(objectName="shardInput", checked=True)
        self.counts: dict[str, QSpinBox] = {}
        self.prices: dict[str, QDoubleSpinBox] = {}
        for gid, g in self.gpus.items():
            self.counts[gid] = QSpinBox(objectName=f"gpuCount_{gid}", minimum=0, maximum=10_000_000)
            self.counts[gid].setGroupSeparatorShown(True)
            self.prices[gid] = QDoubleSpinBox(
                objectName=f"gpuPrice_{gid}",
                minimum=0.0,
                maximum=1000.0,
                singleStep=0.1,
                prefix="$",
                value=g.price_usd_per_hour or 0.0,
            )
        self.counts["A100"].setValue(1024)
        self.readouts = {name: QLabel("—", objectName=name, wordWrap=True) for name in READOUTS}
        self.hint = QLabel(objectName="costHint", wordWrap=True)
        self.hint.setStyleSheet("color: #b00020;")
        self.inverse_days = QDoubleSpinBox(objectName="inverseDays", minimum=0.0, maximum=36500.0, value=30.0)
        self.inverse_tokens = QLabel("—", objectName="inverseTokens", wordWrap=True)

        self.plot = CostChart(self.gpus)

        self.labels: dict[str, QLabel] = {}
        self.tabs = QTabWidget(objectName="costTabs")
        self.tabs.addTab(self._build_calculator(), "")
        self.factcheck = FactCheckView()
        self.tabs.addTab(self.factcheck, "")
        self.your_run = YourRunView()
        self.tabs.addTab(self.your_run, "")
        QVBoxLayout(self).addWidget(self.tabs)

        self.preset.currentIndexChanged.connect(self._on_preset_chosen)
        for edit in (self.params, self.tokens):
            edit.textEdited.connect(self._on_model_edited)
        for spin in (
            self.mfu,
            self.price,
            self.pue,
            self.inverse_days,
            *self.counts.values(),
            *self.prices.values(),
        ):
            spin.valueChanged.connect(self.recompute)
        self.precision.currentIndexChanged.connect(self.recompute)
        self.shard.toggled.connect(self.recompute)
        self.your_run.measure_button.clicked.connect(self._on_measure_clicked)
        if context is not None:
            context.session.run_finished.connect(self._on_run_finished)
        on_language_changed(self.retranslate)
        self.destroyed.connect(lambda *_: forget_listener(self.retranslate))
        self.retranslate()
        self._on_preset_chosen(0)

    def _build_calculator(self) -> QWidget:
        page = QWidget()
        grid = QGridLayout()
        row_items = [
            ("preset", self.preset),
            ("params", self.params),
            ("tokens", self.tokens),
            ("precision", self.precision),
            ("mfu", self.mfu),
            ("price", self.price),
            ("pue", self.pue),
        ]
        for i, (key, widget) in enumerate(row_items):
            self.labels[key] = QLabel()
            grid.addWidget(self.labels[key], i // 3, (i % 3) * 2)
            grid.addWidget(widget, i // 3, (i % 3) * 2 + 1)
        grid.addWidget(self.shard, 2, 2, 1, 4)
        fleet = QGridLayout()
        self.labels["fleet"] = QLabel()
        fleet.addWidget(self.labels["fleet"], 0, 0, 1, 6)
        for i, gid in enumerate(self.gpus):
            name = QLabel(gid + ("*" if self.gpus[gid].verified == "unverified" else ""))
            name.setToolTip(
                f"{self.gpus[gid].name}\n{self.gpus[gid].source}\n{self.gpus[gid].price_source or ''}"
            )
            r, c = 1 + i // 2, (i % 2) * 3
            fleet.addWidget(name, r, c)
            fleet.addWidget(self.counts[gid], r, c + 1)
            fleet.addWidget(self.prices[gid], r, c + 2)
        out = QGridLayout()
        for i, name in enumerate(READOUTS):
            self.labels[name] = QLabel()
            out.addWidget(self.labels[name], i // 2, (i % 2) * 2)
            out.addWidget(self.readouts[name], i // 2, (i % 2) * 2 + 1)
            out.setColumnStretch((i % 2) * 2 + 1, 1)
        inverse = QHBoxLayout()
        self.labels["inverse"] = QLabel()
        inverse.addWidget(self.labels["inverse"])
        inverse.addWidget(self.inverse_days)
        inverse.addWidget(self.inverse_tokens, 1)
        layout = QVBoxLayout(page)
        for part in (grid, fleet, out):
            layout.addLayout(part)
        layout.addWidget(self.hint)
        layout.addLayout(inverse)
        layout.addWidget(self.plot, 1)
        return page

    # ------------------------------------------------------------ state → estimate

    def estimate(self) -> F.Estimate:
        """The core dataclass the read-outs show (recomputed on every edit)."""
        return self._estimate if self._estimate is not None else self.recompute()

    def _value(self, edit: QLineEdit) -> float:
        value, _ = self._parse(edit)
        return value if value is not None else 0.0

    def _parse(self, edit: QLineEdit) -> tuple[float | None, str]:
        """The field's number, or None and why not: a "1,5" or a "1e309" is never quietly taken as 0."""
        text = edit.text().strip()
        try:
            v = float(text)
        except ValueError:
            return None, tr(
                f"“{text[:20]}”不是数字（小数点用 . ，例如 1.5e9）",
                f"“{text[:20]}” is not a number (use . as the decimal point, e.g. 1.5e9)",
            )
        if not math.isfinite(v) or v > 1e30:
            return None, tr(f"{text[:20]} 太大（上限 1e30）", f"{text[:20]} is too large (the limit is 1e30)")
        if v < 0:
            return None, tr(f"{text[:20]} 不能是负数", f"{text[:20]} cannot be negative")
        return v, ""

    def recompute(self, *_) -> F.Estimate:
        prices = {g: (s.value() or None) for g, s in self.prices.items()}  # 0 shows as "no price"
        if self.price.value() > 0:
            prices = dict.fromkeys(self.gpus, self.price.value())
        fleet = F.make_fleet({g: s.value() for g, s in self.counts.items()}, prices=prices)
        (n_params, params_problem), (n_tokens, tokens_problem) = (
            self._parse(self.params),
            self._parse(self.tokens),
        )
        e = F.estimate(
            n_params or 0.0,
            n_tokens or 0.0,
            fleet,
            self.mfu.value(),
            self.precision.currentData(),
            self.pue.value(),
            sharded=self.shard.isChecked(),
            **self._model,
        )
        self._estimate = e
        problem = params_problem or tokens_problem
        if problem:  # nothing is estimated from a field that does not hold a number
            for label in self.readouts.values():
                label.setText("—")
                label.setProperty("value", None)
            self.hint.setText(problem)
            return e
        self._show(e, fleet)
        return e

    def _show(self, e: F.Estimate, fleet) -> None:
        lang = language()
        texts = {
            "costFlops": f"{units.format_sci(e.flops)} FLOPs  "
            f"({units.format_sci(e.pf_days)} PF/s-{tr('天', 'days')})"
        }
        if e.seconds is None:
            for name in READOUTS[1:5]:
                texts[name] = "—"
            self.hint.setText(
                tr("至少设置一张 GPU，才能算出时间和成本。", "Set at least one GPU to get time and cost.")
                if e.hint == "no_gpus"
                else tr("数字太大，无法计算。", "Numbers too large to compute.")
            )
        else:
            texts["costDays"] = units.format_duration(e.seconds, lang)
            if not 1 <= e.days < 365.25:  # years or hours: say it in days too
                texts["costDays"] += f"  ({units.format_sci(e.days)} {tr('天', 'days')})"
            texts["costGpuHours"] = units.format_sci(e.gpu_hours)
            texts["costUsd"] = units.format_usd(e.cost_usd) + (
                f"  ({tr('未计入无报价的', 'excl. unpriced')} {', '.join(e.unpriced)})" if e.unpriced else ""
            )
            texts["costEnergy"] = f"{units.format_energy(e.energy_kwh)}  (PUE {e.pue:g})"
            self.hint.setText(
                tr("不同型号混用时按算力相加，是乐观的上限。", "Mixed types add up: an optimistic bound.")
                if sum(1 for x in fleet if x.count) > 1
                else ""
            )
        fit = {True: tr("放得下", "fits"), False: tr("放不下", "does not fit"), None: "—"}[e.fits]
        texts["costMemory"] = (
            f"{units.format_bytes_gb(e.memory_per_gpu_gb)}/{tr('卡', 'GPU')} · {fit} · "
            f"{tr('至少', 'at least')} {units.format_sci(e.min_gpus)} {tr('张', 'GPUs')}"
        )
        values = {
            "costFlops": e.flops,
            "costDays": e.days,
            "costGpuHours": e.gpu_hours,
            "costUsd": e.cost_usd,
            "costEnergy": e.energy_kwh,
            "costMemory": e.memory_per_gpu_gb,
        }
        for name, label in self.readouts.items():
            label.setText(texts[name])
            label.setProperty("value", values[name])
        tokens = F.tokens_for_budget(e.n_params, fleet, self.inverse_days.value(), e.mfu, e.precision)
        self.inverse_tokens.setText(f"{units.format_sci(tokens)} tokens" if e.n_gpus else "—")
        self.plot.show_estimate(e, {x.gpu.id: x.count for x in fleet})

    # ------------------------------------------------------------ events

    def _on_preset_chosen(self, index: int) -> None:
        pid = self.preset.itemData(index)
        if pid == "custom":
            return
        if pid == "my_run":
            m = self._my_run or {}
            n, d, shape = float(m.get("n_params", 0)), float(m.get("tokens", 0)), {}
        else:
            p = self.presets[pid]
            n, d = p.n_params, p.n_tokens
            shape = {
                "n_params_total": p.n_params_total,
                "seq_len": p.seq_len,
                "n_layer": p.n_layer,
                "d_model": p.d_model,
            }
        self._model = {"n_params_total": None, "seq_len": None, "n_layer": None, "d_model": None, **shape}
        self.params.setText(f"{n:g}")
        self.tokens.setText(f"{d:g}")
        self.preset.setToolTip(
            self.presets[pid].note_zh
            if pid in self.presets and language() == "zh"
            else self.presets[pid].note_en
            if pid in self.presets
            else ""
        )
        self.recompute()

    def _on_model_edited(self, *_) -> None:
        """Typing a number makes it the user's own model: the preset's shape no longer applies."""
        self._model = {"n_params_total": None, "seq_len": None, "n_layer": None, "d_model": None}
        self.preset.blockSignals(True)
        self.preset.setCurrentIndex(self.preset.findData("custom"))
        self.preset.blockSignals(False)
        self.recompute()

    def _on_run_finished(self, done) -> None:
        self.show_run(done.metrics)
        if not self.your_run.cpu_peak:
            self._measure_when_seen()

    def show_run(self, metrics: dict) -> None:
        """A finished run: the "your run" tab and the "my run" preset both use it."""
        self._my_run = dict(metrics)
        self.your_run.show_run(metrics)
        self.preset.model().item(self.preset.findData("my_run")).setEnabled(True)

    def _on_measure_clicked(self) -> None:
        from gui import workers

        self.your_run.measure_button.setEnabled(False)
        workers.call_in_worker(
            F.measure_matmul_flops,
            self._on_peak_measured,
            lambda _msg: self.your_run.measure_button.setEnabled(True),
            owner=self,
        )

    def _on_peak_measured(self, flops_per_s: float) -> None:
        self.your_run.measure_button.setEnabled(True)
        self.your_run.set_cpu_peak(flops_per_s, "matmul")

    def retranslate(self) -> None:
        zh = language() == "zh"
        for i in range(self.preset.count()):
            pid = self.preset.itemData(i)
            if pid in self.presets:
                text = self.presets[pid].name_zh if zh else self.presets[pid].name_en
            else:
                text = {
                    "my_run": tr("我的训练（训练后可用）", "My run (after training)"),
                    "custom": tr("自定义", "Custom"),
                }[pid]
            self.preset.setItemText(i, text)
        if self._my_run is None:
            self.preset.model().item(self.preset.findData("my_run")).setEnabled(False)
        names = {
            "preset": tr("模型", "Model"),
            "params": tr("参数量", "Parameters"),
            "tokens": tr("训练 token", "Tokens"),
            "precision": tr("精度", "Precision"),
            "mfu": tr("利用率 MFU", "Utilisation (MFU)"),
            "price": tr("统一价/卡时", "Price/GPU-h"),
            "pue": "PUE",
            "fleet": tr(
                "你的 GPU（张数、每卡每小时美元；* 规格未核实）",
                "Your GPUs (count, USD per GPU-hour; * unverified specs)",
            ),
            "costFlops": tr("总算力", "Total compute"),
            "costDays": tr("训练时间", "Training time"),
            "costGpuHours": tr("GPU 小时", "GPU-hours"),
            "costUsd": tr("费用", "Cost"),
            "costEnergy": tr("耗电", "Energy"),
            "costMemory": tr("显存", "Memory"),
            "inverse": tr("反过来：这些卡跑这么多天能训练", "Inverse: in this many days the fleet trains"),
        }
        for key, text in names.items():
            self.labels[key].setText(text)
        self.price.setSpecialValueText(tr("按型号", "per type"))
        self.shard.setText(
            tr("训练状态分摊到所有卡（ZeRO-3 / 模型并行）", "Shard training state over all GPUs (ZeRO-3)")
        )
        self.inverse_days.setSuffix(tr(" 天", " days"))
        for spin in self.prices.values():
            spin.setSpecialValueText(tr("无报价", "no price"))
        self.plot.retranslate()
        for i, text in enumerate(
            (
                tr("计算器", "Calculator"),
                tr("事实核查", "Fact check"),
                tr("你的训练 vs GPT-3", "Your run vs GPT-3"),
            )
        ):
            self.tabs.setTabText(i, text)
        self.factcheck.retranslate()
        self.your_run.retranslate()
        self.recompute()
