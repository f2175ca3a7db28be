"""The word-vector panel: neighbours, the personality-tag table, projections, the time-lapse, export."""

from __future__ import annotations

import csv
import shutil
import threading

import numpy as np
import pytest

from core import resources
from core.embeddings.projection import orient, pca_2d, procrustes
from core.embeddings.vectors import Axis, score_word
from core.events import Snapshot
from gui import workers
from gui.panels.embedding import EmbeddingPanel

WORDS = ("猫", "狗", "马", "垫子", "椅子", "沙发", "灯泡", "杯子")
CATS = ("animal",) * 3 + ("seat",) * 3 + ("object",) * 2


def _snapshot(step, rng, labels=("<unk>", "[MASK]", "猫", "狗", "子", "，")):
    vectors = rng.normal(size=(len(WORDS), 8)).astype(np.float32)
    tokens = rng.normal(size=(len(labels), 8)).astype(np.float16)
    return Snapshot(step, WORDS, CATS, vectors, "", (), np.zeros((1, 1, 1, 1)), tokens, labels)


@pytest.fixture
def bundled_checkpoint():
    from core.model.checkpoint import load_checkpoint

    return load_checkpoint(resources.root() / "models" / "default.safetensors")


def _panel(qtbot, context=None):
    panel = EmbeddingPanel(context)
    qtbot.addWidget(panel)
    panel.resize(900, 800)
    panel.show()
    return panel


def test_neighbours_of_cat_in_the_bundled_model_match_a_numpy_cosine(qtbot, context, bundled_checkpoint):
    from core.analysis.probes import word_vectors

    panel = _panel(qtbot, context)
    context.publish_model(bundled_checkpoint)
    qtbot.waitUntil(lambda: panel.frame() is not None, timeout=20_000)
    categories = bundled_checkpoint.meta["categories"]
    found = panel.neighbours("猫", 5)
    assert categories[found[0][0]] == "animal"
    words = sorted(categories)
    v = word_vectors(bundled_checkpoint.model, bundled_checkpoint.tokenizer, words, "zh").astype(np.float64)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    sims = v @ v[words.index("猫")]
    order = [i for i in np.argsort(-sims) if words[i] != "猫"][:5]
    assert [w for w, _ in found] == [words[i] for i in order]
    assert np.allclose([s for _, s in found], sims[order], atol=1e-5)
    panel.search.setText("猫")
    panel.search.returnPressed.emit()
    shown = panel.neighbour_rows()
    assert len(shown) == 8 and shown[0].startswith(found[0][0]) and panel.map.ring.getData()[0].size == 1
    panel.ask("龙")  # unknown: a message, and nothing else changes
    assert "不在这个模型的词表里" in panel.neighbour_title.text() and panel.neighbour_rows() == shown
    scores = panel.axis_scores()
    assert scores["猫"]["动物 ↔ 物品"] > 0 and scores["垫子"]["动物 ↔ 物品"] < 0
    assert "*" in panel.axes.cell_text("猫", "动物 ↔ 物品") and "文章" in panel.axes.cell_text(
        "猫", "动物 ↔ 物品"
    )
    assert "未训练" in panel.axes.cell_text("猫", "动物 ↔ 物品")


def test_axes_are_editable_saved_and_cells_say_why_they_are_empty(qtbot, context):
    panel = _panel(qtbot, context)
    rng = np.random.default_rng(0)
    panel._on_snapshot_ready(_snapshot(0, rng))
    panel._lang = "zh"
    panel._load_axes()
    panel.redraw()
    assert [a.name for a in panel.axes.axes()][:1] == ["动物 ↔ 物品"]
    panel.axes.replace_axis(-1, Axis("猫狗", ("猫",), ("狗",)))
    panel.set_axes([*panel.axes.axes(), Axis("空", (), ("狗",)), Axis("龙", ("龙",), ("狗",))], ["猫", "马"])
    assert panel.axis_scores()["马"]["猫狗"] is not None
    assert panel.axis_scores()["马"]["空"] is None and "A 组为空" in panel.axes.cell_text("马", "空")
    assert "不在词表：龙" in panel.axes.cell_text("马", "龙")
    again = _panel(qtbot, context)  # a new panel reads the saved axes and rows
    again._on_snapshot_ready(_snapshot(0, rng))
    again._lang = "zh"
    again._load_axes()
    assert "猫狗" in [a.name for a in again.axes.axes()] and again.axes.words() == ("猫", "马")


def test_the_timeline_shows_frame_k_aligned_to_the_latest(qtbot):
    panel = _panel(qtbot)
    rng = np.random.default_rng(1)
    snaps = [_snapshot(step, rng) for step in (0, 50, 100, 150)]
    for s in snaps:
        panel._on_snapshot_ready(s)
    assert panel.timeline.maximum() == 3 and panel.timeline.value() == 3  # follows the newest frame
    ref = orient(pca_2d(snaps[-1].embeddings))
    panel.timeline.setValue(1)
    expected = procrustes(pca_2d(snaps[1].embeddings), ref)
    shown = np.array([panel.points()[w] for w in WORDS])
    assert np.allclose(shown, expected, atol=1e-9) and "50" in panel.step_label.text()
    assert f"{panel.frame().purity:.2f}" in panel.info.text()
    panel.play.setChecked(True)  # plays on to the end and stops
    qtbot.waitUntil(lambda: not panel.play.isChecked(), timeout=5000)
    assert panel.timeline.value() == 3


def test_all_tokens_projection_axes_and_exports(qtbot, tmp_path):
    panel = _panel(qtbot)
    panel._on_snapshot_ready(_snapshot(10, np.random.default_rng(2)))
    panel._lang = "zh"
    panel._load_axes()
    panel.all_tokens.setChecked(True)
    others = panel.map.other_points()
    assert set(others) == {"子", "，"}  # specials and the entity words themselves are not "other"
    panel.ask("子")
    assert panel.neighbour_rows()  # a plain token can be asked about too
    panel.projection.setCurrentIndex(panel.projection.findData("axes"))
    xs = np.array([panel.points()[w][0] for w in WORDS])
    axis = panel.axes.axes()[panel.axis_x.currentIndex()]
    assert np.allclose(xs, [score_word(w, axis, panel.lookup()).value for w in WORDS])
    assert panel.export_csv(str(tmp_path / "map.csv"))
    rows = list(csv.reader(open(tmp_path / "map.csv", encoding="utf-8")))
    assert rows[0] == ["token", "category", "x", "y", "step"] and len(rows) == 1 + len(WORDS) + 2
    assert rows[-1][1] == "other" and rows[1][4] == "10"
    assert panel.export_png(str(tmp_path / "map.png")) and (tmp_path / "map.png").stat().st_size > 1000
    assert panel.export_table_csv(str(tmp_path / "table.csv"))
    table = list(csv.reader(open(tmp_path / "table.csv", encoding="utf-8")))
    assert table[0][1] == "动物 ↔ 物品" and table[1][0] == "猫"


def test_tsne_runs_in_a_worker_and_cancel_stops_it_within_a_second(qtbot):
    panel = _panel(qtbot)
    rng = np.random.default_rng(3)
    panel._on_snapshot_ready(Snapshot(5, WORDS[:3], CATS[:3], rng.normal(size=(3, 8)), "", (), None))
    panel.projection.setCurrentIndex(panel.projection.findData("tsne"))
    panel.run_tsne()
    assert "至少需要 5 个点" in panel.info.text() and not workers.live_threads()
    words = tuple(f"w{i}" for i in range(300))
    panel._on_snapshot_ready(Snapshot(6, words, ("x",) * 300, rng.normal(size=(300, 16)), "", (), None))
    panel.run_tsne()
    threads = workers.live_threads()
    assert threads and all(t is not threading.current_thread() for t in threads)
    assert panel.tsne_progress.isVisible() and panel.tsne_cancel.isEnabled()
    qtbot.wait(300)
    panel.tsne_cancel.click()
    qtbot.waitUntil(lambda: not workers.live_threads(), timeout=1000)
    qtbot.waitUntil(lambda: "已取消" in panel.info.text(), timeout=1000)
    assert panel.tsne_run.isEnabled()


@pytest.mark.slow
def test_a_run_folder_written_by_the_cli_scrubs_after_reopening(qtbot, context, tmp_path):
    from core.cli import main

    run = tmp_path / "run"
    assert main(["train", "--preset", "tiny", "--steps", "40", "--out", str(run), "--threads", "1"]) == 0
    panel = _panel(qtbot, context)
    context.session.open_run_folder(str(run))
    qtbot.waitUntil(lambda: panel.frame() is not None, timeout=20_000)
    assert panel.timeline.maximum() == 2 and panel._timeline.steps == [0, 20, 40]
    panel.timeline.setValue(1)
    frames = panel._timeline.frames
    expected = procrustes(pca_2d(frames[1].words), orient(pca_2d(frames[-1].words)))
    assert np.allclose([panel.points()[w] for w in panel._timeline.words], expected)
    broken = tmp_path / "broken"
    shutil.copytree(run, broken)
    (broken / "embeddings" / "step_000000020.npz").write_bytes(b"")
    other = _panel(qtbot, context)
    other._on_run_loaded(type("H", (), {"run_dir": str(broken)})())
    qtbot.waitUntil(lambda: "没有延时动画" in other.info.text(), timeout=10_000)
    assert "step_000000020.npz" in other.info.text()
