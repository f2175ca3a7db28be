"""The shell: docks from the registry, View menu, languages, settings round trip, file menu, About."""

from __future__ import annotations

import os

from PySide6.QtWidgets import QComboBox, QDockWidget, QPushButton

from gui.panels import PANELS

MINE = ("trainingDock", "lossDock", "embeddingDock", "tokenizerDock")


def test_every_registered_panel_gets_a_named_dock(window):
    assert window.objectName() == "mainWindow"
    for spec in PANELS:
        dock = window.findChild(QDockWidget, spec.id)
        assert dock is not None and dock.widget() is not None
        features = dock.features()
        assert features & QDockWidget.DockWidgetFeature.DockWidgetClosable
        assert features & QDockWidget.DockWidgetFeature.DockWidgetMovable
    for name in MINE:
        assert window.findChild(QDockWidget, name) is not None


def test_docks_close_and_come_back_from_the_view_menu(window, qtbot):
    view = {a.text(): a for a in window.view_menu.actions()}
    for name in MINE:
        dock = window.docks[name]
        dock.close()
        qtbot.waitUntil(lambda dock=dock: not dock.isVisible(), timeout=1000)
        action = view[dock.windowTitle()]
        assert not action.isChecked()
        action.trigger()
        qtbot.waitUntil(dock.isVisible, timeout=1000)


def test_language_switch_is_live(window):
    train = window.findChild(QPushButton, "trainButton")
    window.set_language("zh")
    assert train.text() == "训练" and window.docks["lossDock"].windowTitle() == "损失曲线"
    window.set_language("en")
    assert train.text() == "Train" and window.docks["lossDock"].windowTitle() == "Loss"
    assert window.file_menu.title() == "&File"
    assert window.panels["lossDock"].plot.getPlotItem().getAxis("bottom").labelText == "step"
    window.set_language("zh")
    assert window.panels["tokenizerDock"].kind_label.text() == "分词方式"


def test_settings_round_trip_in_a_temporary_file(qtbot, tmp_path, _isolated_settings):
    from gui import create_main_window

    path = str(tmp_path / "roundtrip.ini")
    first = create_main_window(path)
    qtbot.addWidget(first)
    first.show()
    qtbot.waitExposed(first)
    qtbot.waitUntil(lambda: not first.context.engine_loading, timeout=120_000)  # torch, imported once
    first.resize(720, 540)  # within the 800×800 offscreen screen: restoreGeometry clamps to it
    first.docks["embeddingDock"].close()
    combo = first.findChild(QComboBox, "presetCombo")
    assert combo.currentData() == "default"  # first launch: the one-minute demo
    combo.setCurrentIndex(combo.findData("tiny"))  # not the first-launch preset, so restoring it shows
    first.set_language("en")
    first.close()
    assert os.path.isfile(path)

    second = create_main_window(path)
    qtbot.addWidget(second)
    second.show()
    qtbot.waitExposed(second)
    assert (second.width(), second.height()) == (720, 540)
    # closed stays closed (a dock behind another tab is open but not visible: ask the View menu's action)
    assert not second.docks["embeddingDock"].toggleViewAction().isChecked()
    assert second.docks["lossDock"].isVisible()
    assert second.findChild(QComboBox, "presetCombo").currentData() == "tiny"
    qtbot.waitUntil(lambda: not second.context.engine_loading, timeout=10_000)
    assert second.findChild(QPushButton, "trainButton").text() == "Train"
    second.close()
    from gui import workers

    qtbot.waitUntil(lambda: not workers.live_threads(), timeout=60_000)  # two windows' start-up work
    # nothing was written to the user's own settings locations
    assert not os.path.exists(
        os.path.expanduser("~/.config/llm-explorer/llm-explorer.ini")
    ) or os.path.getmtime(os.path.expanduser("~/.config/llm-explorer/llm-explorer.ini")) < os.path.getmtime(
        path
    )


def test_about_names_the_versions(window):
    import PySide6

    box = window.show_about()
    assert PySide6.__version__ in box.text() and "torch" in box.text()
    box.close()


def test_save_checkpoint_copies_the_last_runs_files(window, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "model.safetensors").write_bytes(b"weights")
    (run / "model.json").write_text("{}", encoding="utf-8")
    assert not window.save_checkpoint(str(tmp_path / "nowhere"))  # nothing trained yet: a message, no copy
    assert window.statusBar().currentMessage()
    window.context.session.checkpoint_path = str(run / "model.safetensors")
    assert window.save_checkpoint(str(tmp_path / "saved"))
    assert (tmp_path / "saved" / "model.safetensors").read_bytes() == b"weights"
    assert (tmp_path / "saved" / "model.json").exists()


def test_open_checkpoint_error_becomes_a_message(window, qtbot, tmp_path):
    bad = tmp_path / "model.json"
    bad.write_text("not json", encoding="utf-8")
    window.open_checkpoint(str(bad))
    qtbot.waitUntil(
        lambda: (
            "model" in window.statusBar().currentMessage()
            and "Loading" not in window.statusBar().currentMessage()
            and "正在加载" not in window.statusBar().currentMessage()
        ),
        timeout=30_000,
    )
    assert window.context.current_model is None


def test_export_window_image(window, tmp_path):
    assert window.export_image(str(tmp_path / "w.png"))
    assert (tmp_path / "w.png").stat().st_size > 1000


def test_main_forwards_subcommands_to_the_cli(monkeypatch):
    import core.cli
    import main

    seen = []
    monkeypatch.setattr(core.cli, "main", lambda argv: seen.append(argv) or 7)
    assert main.main(["train", "--preset", "tiny"]) == 7
    assert seen == [["train", "--preset", "tiny"]]


def test_first_launch_layout_gives_the_analysis_most_of_the_window(qtbot, _isolated_settings):
    """Form and loss curve in a left column; attention, cloze, cost, … share the rest as tabs, attention
    in front; at both common screen sizes the form is not squeezed into scrolling."""
    from gui import create_main_window

    for width, height in ((1366, 768), (1920, 1080)):
        win = create_main_window(str(_isolated_settings / f"layout-{width}.ini"))
        qtbot.addWidget(win)
        win.resize(width, height)
        win.show()
        qtbot.waitExposed(win)
        attention, training = win.docks["attentionDock"], win.docks["trainingDock"]
        qtbot.waitUntil(lambda a=attention, w=width: a.width() > 0.6 * w, timeout=5_000)
        assert attention.isVisible() and attention.height() > 0.8 * height
        tabbed = set(win.tabifiedDockWidgets(attention))
        assert {win.docks[k] for k in ("clozeDock", "costDock", "embeddingDock", "tokenizerDock")} <= tabbed
        assert win.dockWidgetArea(win.docks["lossDock"]) == win.dockWidgetArea(training)
        form = training.widget()
        assert not form.verticalScrollBar().isVisible() and not form.horizontalScrollBar().isVisible()
        qtbot.waitUntil(lambda w=win: not w.context.engine_loading, timeout=120_000)
        win.close()
