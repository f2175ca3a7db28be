"""The compute & cost panel: change GPU counts → read-outs follow; presets; hints; fact-check; your run."""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QSpinBox

from core.events import Done
from gui import i18n
from gui.panels.cost.panel import READOUTS, CostPanel


@pytest.fixture
def panel(qtbot):
    p = CostPanel(None)
    qtbot.addWidget(p)
    return p


def _spin(panel, name) -> QSpinBox:
    return panel.findChild(QSpinBox, name)


def _label(panel, name) -> QLabel:
    return panel.findChild(QLabel, name)


def _choose(panel, preset_id):
    combo = panel.preset
    combo.setCurrentIndex(combo.findData(preset_id))


def test_object_names_the_tests_and_design_promise(panel):
    assert panel.objectName() == "costPanel"
    for name in ("gpuCount_A100", "gpuCount_H800", "gpuCount_H100", "gpuCount_V100", "gpuCount_B200"):
        assert _spin(panel, name) is not None
    for name in ("paramsInput", "tokensInput"):
        assert panel.findChild(QLineEdit, name) is not None
    for name in ("modelPreset", "mfuInput", "priceInput", "precisionInput", *READOUTS):
        assert panel.findChild(QObject, name) is not None


def test_gpt3_on_one_a100_at_full_mfu_reads_31_9_years(panel):
    _choose(panel, "gpt3")
    _spin(panel, "gpuCount_A100").setValue(1)
    panel.mfu.setValue(1.0)
    assert panel.estimate().flops == pytest.approx(3.15e23, rel=0.01)
    assert panel.estimate().years == pytest.approx(31.9, rel=0.01)
    assert "31.9 年" in _label(panel, "costDays").text()
    assert "3.14×10²³" in _label(panel, "costFlops").text()


def test_doubling_a100s_halves_cost_days(panel):
    _choose(panel, "gpt3")
    _spin(panel, "gpuCount_A100").setValue(512)
    days, text = panel.estimate().days, _label(panel, "costDays").text()
    _spin(panel, "gpuCount_A100").setValue(1024)
    assert panel.estimate().days == pytest.approx(days / 2)
    assert _label(panel, "costDays").property("value") == pytest.approx(days / 2)
    assert _label(panel, "costDays").text() != text


def test_setting_h800s_updates_every_readout(panel):
    _choose(panel, "gpt3")
    before = {name: _label(panel, name).text() for name in READOUTS}
    _spin(panel, "gpuCount_H800").setValue(2048)
    after = {name: _label(panel, name).text() for name in READOUTS if name != "costFlops"}
    for name, text in after.items():
        assert text != before[name], name
    assert panel.estimate().n_gpus == 1024 + 2048


def test_mixed_fleet_throughput_is_the_sum(panel):
    _spin(panel, "gpuCount_A100").setValue(100)
    _spin(panel, "gpuCount_H800").setValue(50)
    assert panel.estimate().peak_flops == pytest.approx(100 * 312e12 + 50 * 989.5e12)


def test_deepseek_v3_on_2048_h800_at_2_usd(panel):
    _choose(panel, "deepseek_v3")
    _spin(panel, "gpuCount_A100").setValue(0)
    _spin(panel, "gpuCount_H800").setValue(2048)
    panel.price.setValue(2.0)
    panel.mfu.setValue(0.331)  # the MFU DeepSeek's 2.788 M GPU-hours imply on a 6ND basis
    e = panel.estimate()
    assert e.gpu_hours == pytest.approx(2.79e6, rel=0.02)
    assert e.cost_usd == pytest.approx(5.58e6, rel=0.02)
    assert _label(panel, "costUsd").text() == "$5.57 M"


def test_zero_gpus_shows_a_hint_not_inf_or_nan(panel):
    _spin(panel, "gpuCount_A100").setValue(0)
    assert panel.estimate().seconds is None
    assert _label(panel, "costHint").text()
    for name in READOUTS:
        text = _label(panel, name).text().lower()
        assert "inf" not in text and "nan" not in text


def test_1e30_parameters_give_finite_readable_figures(panel):
    panel.params.setText("1e30")
    panel.params.textEdited.emit("1e30")
    e = panel.estimate()
    assert e.n_params == 1e30 and math.isfinite(e.days) and math.isfinite(e.cost_usd)
    assert "×10" in _label(panel, "costDays").text()
    assert panel.preset.currentData() == "custom"


def test_negative_values_are_impossible(panel, qtbot):
    for spin in panel.counts.values():
        assert spin.minimum() == 0
    _spin(panel, "gpuCount_A100").setValue(-5)
    assert _spin(panel, "gpuCount_A100").value() == 0
    assert panel.mfu.minimum() > 0 and panel.price.minimum() == 0
    panel.params.clear()
    qtbot.keyClicks(panel.params, "-175e9")
    assert not panel.params.text().startswith("-")
    assert panel.estimate().n_params >= 0


def test_scientific_notation_is_accepted(panel, qtbot):
    panel.params.clear()
    qtbot.keyClicks(panel.params, "1.75e11")
    assert panel.estimate().n_params == pytest.approx(1.75e11)


def test_chart_has_a_curve_per_gpu_type_and_marks_the_fleet(panel):
    _choose(panel, "gpt3")
    _spin(panel, "gpuCount_A100").setValue(1000)
    x, y = panel.plot.curves["A100"].getOriginalDataset()  # getData() is log-transformed
    assert len(x) > 10 and y[0] / y[-1] == pytest.approx(x[-1] / x[0])  # days ∝ 1 / GPUs
    mx, my = panel.plot.fleet_marker.getOriginalDataset()
    assert mx[0] == 1000 and my[0] == pytest.approx(panel.estimate().days)
    assert panel.plot.curves["H100"].isVisible() and not panel.plot.curves["B200"].isVisible()
    _spin(panel, "gpuCount_B200").setValue(8)
    assert panel.plot.curves["B200"].isVisible()


def test_factcheck_tab_shows_every_claim_with_a_verdict(panel):
    view = panel.factcheck
    verdicts = view.verdicts()
    assert verdicts["a100_355_years"] == "misattributed"
    assert verdicts["h800_60_77"] == "unsupported"
    assert verdicts["deepseek_cost"] == "correct"
    assert view.table.rowCount() == len(verdicts)
    assert "31.9" in view.table.item(2, 1).text()


def test_your_run_vs_gpt3(panel):
    metrics = {"flops": 3.14e13, "tokens": 1e6, "elapsed_s": 100.0, "tokens_per_s": 1e4, "n_params": 5e6}
    panel.show_run(metrics)
    panel.your_run.set_cpu_peak(1e12, "matmul")
    f = panel.your_run.figures()
    assert f["achieved"] == pytest.approx(3.14e11)
    assert f["mfu"] == pytest.approx(0.314)
    assert f["gpt3_ratio"] == pytest.approx(1e10, rel=0.01)
    assert panel.findChild(QLabel, "run_mfu").text() == "31.4%"
    _choose(panel, "my_run")
    assert panel.estimate().n_params == 5e6 and panel.estimate().n_tokens == 1e6


def test_run_finished_from_the_session_reaches_the_panel(qtbot):
    class Session(QObject):
        run_finished = Signal(object)

    class Context:
        session = Session()

    p = CostPanel(Context())
    qtbot.addWidget(p)
    p.your_run.set_cpu_peak(1e11, "matmul")  # no background measurement in this test
    Context.session.run_finished.emit(
        Done(
            "finished",
            {"flops": 1e12, "elapsed_s": 10.0, "tokens": 1e5, "tokens_per_s": 1e4, "n_params": 1e5},
            "",
        )
    )
    assert p.your_run.figures()["flops"] == 1e12


def test_language_switch_retranslates(panel):
    i18n.set_language("en")
    assert panel.tabs.tabText(1) == "Fact check"
    assert "years" in _label(panel, "costDays").text() or "days" in _label(panel, "costDays").text()
    i18n.set_language("zh")
    assert panel.tabs.tabText(1) == "事实核查"
