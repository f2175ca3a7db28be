"""What a new user meets first: `--help`/`--version` print and exit, a machine without a display gets one line
instead of Qt's abort, and Chinese renders on a machine with no CJK font installed (the bundled subset)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from PySide6.QtGui import QFont, QFontMetrics

from gui import fonts

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SENTENCE = "猫坐在垫子上"


def _env(tmp_path, **extra) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    env.update(
        LLM_EXPLORER_MODELS=str(tmp_path / "no-models"),
        LLM_EXPLORER_SETTINGS=str(tmp_path / "settings.ini"),
        LLM_EXPLORER_RUNS=str(tmp_path / "runs"),
        XDG_CONFIG_HOME=str(tmp_path / "xdg-config"),
        XDG_DATA_HOME=str(tmp_path / "xdg-data"),
        PYTHONPATH=os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p),
        **extra,
    )
    return env


def _main(tmp_path, *args, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "main.py", *args],
        cwd=ROOT,
        env=_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_help_prints_usage_and_exits_0_without_a_window(tmp_path):
    out = _main(tmp_path, "--help")  # no display either: --help must not need one
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("usage: llm-explorer")
    for command in ("train", "inspect", "cloze", "cost", "factcheck"):
        assert f"  {command} " in out.stdout
    assert out.stderr == ""


def test_version_prints_and_exits_0(tmp_path):
    from core import __version__

    out = _main(tmp_path, "--version")
    assert (out.returncode, out.stdout, out.stderr) == (0, f"llm-explorer {__version__}\n", "")


def test_a_subcommand_still_goes_to_the_cli(tmp_path):
    out = _main(tmp_path, "cost", "--preset", "gpt3", "--gpu", "A100=1024", "--json")
    assert out.returncode == 0, out.stderr
    assert out.stdout.lstrip().startswith("{") and out.stderr == ""


def test_no_display_says_what_to_do_in_one_line_and_exits_2(tmp_path):
    out = _main(tmp_path)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.splitlines()
    assert len(lines) == 1, out.stderr
    assert "QT_QPA_PLATFORM=offscreen" in lines[0] and "llm-explorer train" in lines[0]


def test_an_installed_cjk_font_is_preferred_to_the_bundled_one(qapp):
    """On this machine the choice depends on what is installed: the bundled font only when nothing else is."""
    before = QFont(qapp.font())
    try:
        chain = fonts.install_cjk_font(qapp)
        installed = fonts.installed_cjk_families()
        assert chain and all(QFontMetrics(QFont(chain[0])).inFontUcs4(ord(c)) for c in SENTENCE)
        bundled = "LLM Explorer Sans CJK"
        assert (chain[0] == bundled) == (not installed or installed == [bundled])
        assert qapp.font().families()[: len(chain)] == chain
    finally:
        qapp.setFont(before)


NO_FONT_CHILD = textwrap.dedent(
    """
    from PySide6.QtGui import QFontDatabase, QFontInfo, QFontMetrics
    from PySide6.QtWidgets import QApplication, QLabel, QAbstractButton

    app = QApplication([])
    chinese = QFontDatabase.families(QFontDatabase.WritingSystem.SimplifiedChinese)
    print("SYSTEM_CJK", chinese, flush=True)
    import main, gui

    main._cjk_font(app)
    window = gui.create_main_window()
    window.show()
    app.processEvents()
    widgets = [w for w in window.findChildren(QLabel) + window.findChildren(QAbstractButton)
               if any("\\u4e00" <= c <= "\\u9fff" for c in w.text())]
    bad = []
    for w in widgets:
        family = QFontInfo(w.font()).family()
        metrics = QFontMetrics(w.font())
        text = [c for c in "猫坐在垫子上" + w.text() if "\\u4e00" <= c <= "\\u9fff"]
        if not all(metrics.inFontUcs4(ord(c)) for c in text):
            bad.append((w.objectName() or type(w).__name__, family))
    print("WIDGETS", len(widgets), flush=True)
    print("FAMILY", QFontInfo(app.font()).family(), flush=True)
    print("BAD", bad, flush=True)
    window.close()
    """
)


def test_chinese_renders_with_no_system_cjk_font(tmp_path):
    """fontconfig pointed at an empty folder: Qt sees no font at all, every glyph must come from the bundle."""
    (tmp_path / "empty-fonts").mkdir()
    conf = tmp_path / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f"<dir>{tmp_path / 'empty-fonts'}</dir><cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>",
        encoding="utf-8",
    )
    out = subprocess.run(
        [sys.executable, "-c", NO_FONT_CHILD],
        cwd=ROOT,
        env=_env(tmp_path, QT_QPA_PLATFORM="offscreen", FONTCONFIG_FILE=str(conf)),
        capture_output=True,
        text=True,
        timeout=180,
    )
    lines = dict(ln.split(" ", 1) for ln in out.stdout.splitlines() if " " in ln)
    assert "BAD" in lines, out.stdout + out.stderr
    assert lines["SYSTEM_CJK"] == "[]", "the test machine's fonts leaked into the child"
    assert lines["FAMILY"] == "LLM Explorer Sans CJK"
    assert int(lines["WIDGETS"]) > 20  # the window really has Chinese labels and buttons to check
    assert lines["BAD"] == "[]"


def test_train_waits_visibly_for_the_engine(qtbot, context):
    """Until torch (and the launch model) are loaded, Train says so and cannot be clicked: the one-time
    import that holds the GIL happens before the first click is possible."""
    from PySide6.QtWidgets import QPushButton

    from gui import i18n
    from gui.panels.training.panel import TrainingPanel

    i18n.set_language("en")
    context.engine_loading = True
    panel = TrainingPanel(context)
    qtbot.addWidget(panel)
    train = panel.findChild(QPushButton, "trainButton")
    assert not train.isEnabled() and train.text() == "Loading the engine…"
    panel.start_training()  # a programmatic click does nothing either
    assert not context.session.is_busy()
    published = []
    context.model_loaded.connect(published.append)
    with qtbot.waitSignal(context.engine_ready, timeout=1_000):
        context._on_engine_loaded("a checkpoint", freeze=False)
    assert published == ["a checkpoint"]  # the launch model is drawn before Train is enabled
    assert train.isEnabled() and train.text() == "Train"
