"""core.embeddings: neighbours, semantic axes, Procrustes, frames on disk, t-SNE in a child process."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from core.embeddings.frames import FramesError, Timeline, pack, read_packed, read_run_frames
from core.embeddings.projection import aligned_pca, pca_2d, procrustes
from core.embeddings.tsne import Cancelled, TsneError, run_tsne
from core.embeddings.vectors import Axis, axis_score, cosine_neighbours, default_axes, score_word


def test_cosine_neighbours_agree_with_a_plain_numpy_cosine():
    rng = np.random.default_rng(0)
    v = rng.normal(size=(30, 16))
    names = [f"w{i}" for i in range(30)]
    got = cosine_neighbours(v[3], v, names, 5, exclude="w3")
    unit = v / np.linalg.norm(v, axis=1, keepdims=True)
    sims = unit @ unit[3]
    order = [i for i in np.argsort(-sims) if i != 3][:5]
    assert [n for n, _ in got] == [names[i] for i in order]
    assert np.allclose([s for _, s in got], sims[order])


def test_the_axis_scaling_maps_group_means_to_plus_and_minus_one():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(4, 8)), rng.normal(size=(6, 8))
    assert axis_score(a.mean(0), a, b) == pytest.approx(1.0)
    assert axis_score(b.mean(0), a, b) == pytest.approx(-1.0)
    assert axis_score((a.mean(0) + b.mean(0)) / 2, a, b) == pytest.approx(0.0, abs=1e-12)
    assert axis_score(3 * a.mean(0) - 2 * b.mean(0), a, b) == 1.0  # clipped


def test_a_word_in_a_group_is_scored_on_the_axis_built_without_it():
    lookup = {"x": np.array([10.0, 0]), "y": np.array([1.0, 0]), "z": np.array([-1.0, 0])}
    axis = Axis("t", ("x", "y"), ("z",))
    score = score_word("x", axis, lookup)
    assert score.reason == "left_out_a" and score.value == 1.0  # built from y and z only: x is far past +1
    assert score_word("q", axis, lookup).reason == "unknown_word"
    assert score_word("z", Axis("t", ("x",), ("z",)), lookup).reason == "empty_b"


@pytest.fixture(scope="module")
def bundled():
    from core import resources
    from core.model.checkpoint import load_checkpoint

    return load_checkpoint(resources.bundled_model("default"))


def test_cat_and_mat_on_the_animal_thing_axis_of_the_bundled_model(bundled):
    from core.analysis.probes import untrained_like, word_vectors

    categories = bundled.meta["categories"]
    words = sorted(categories)
    axis = default_axes(categories, "zh")[0]
    assert axis.name == "动物 ↔ 物品" and "猫" in axis.a and "垫子" in axis.b

    def scores(model):
        lookup = dict(zip(words, word_vectors(model, bundled.tokenizer, words, "zh"), strict=True))
        return score_word("猫", axis, lookup), score_word("垫子", axis, lookup)

    cat, mat = scores(bundled.model)
    assert (cat.reason, mat.reason) == ("left_out_a", "left_out_b")  # both left out of their groups
    assert cat.value > 0.5 and mat.value < 0
    # An untrained model scatters single scores anywhere in [-1, 1]; over initialisations they centre on 0.
    untrained = [scores(untrained_like(bundled.model, seed)) for seed in range(8)]
    assert abs(np.mean([c.value for c, _ in untrained])) < 0.4


def test_procrustes_of_a_rotated_copy_returns_the_original():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(500, 2))
    theta = 1.1
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    moved = (x @ rot) * np.array([1, -1]) + np.array([3.0, -7.0])  # rotated, reflected and shifted
    assert np.abs(procrustes(moved, x) - x).max() < 1e-6


def test_aligned_pca_keeps_the_latest_frame_and_rotates_the_others_onto_it():
    rng = np.random.default_rng(3)
    last = rng.normal(size=(40, 8)) * np.array([5, 3, 1, 1, 1, 1, 1, 1])
    q, _ = np.linalg.qr(rng.normal(size=(8, 8)))
    frames = aligned_pca([last @ q, last])  # the same cloud, rotated in the full space
    assert np.abs(frames[0] - frames[1]).max() < 1e-6
    assert np.allclose(np.abs(frames[1]), np.abs(pca_2d(last)))


def _write_run(tmp_path, n_frames=3):
    from core.embeddings.frames import FrameWriter

    rng = np.random.default_rng(4)
    writer = FrameWriter(tmp_path, ["猫", "狗", "垫子"], ["animal", "animal", "seat"], ["<unk>", "猫", "狗"])
    for step in range(n_frames):
        writer.write(step * 10, rng.normal(size=(3, 4)), rng.normal(size=(3, 4)))
    return tmp_path


def test_frames_round_trip_through_the_run_folder_and_the_packed_file(tmp_path):
    timeline = read_run_frames(_write_run(tmp_path / "run"))
    assert timeline.steps == [0, 10, 20] and timeline.words == ("猫", "狗", "垫子")
    assert timeline.frames[0].tokens.dtype == np.float16 and not list((tmp_path / "run").rglob("*.part"))
    pack(timeline, tmp_path / "m.frames.npz")
    again = read_packed(tmp_path / "m.frames.npz")
    assert again.steps == timeline.steps and again.token_labels == timeline.token_labels
    assert np.allclose(again.frames[2].words, timeline.frames[2].words, atol=1e-2)


def test_a_damaged_or_missing_frame_file_is_one_clear_error(tmp_path):
    run = _write_run(tmp_path / "run")
    (run / "embeddings" / "step_000000010.npz").write_bytes(b"not a zip")
    with pytest.raises(FramesError, match="step_000000010.npz"):
        read_run_frames(run)
    with pytest.raises(FramesError, match="missing"):
        read_run_frames(tmp_path / "empty")
    (tmp_path / "x.frames.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(FramesError):
        read_packed(tmp_path / "x.frames.npz")


def test_timeline_replaces_a_repeated_step():
    t = Timeline(("a", "b"), ("x", "y"))
    t.add(5, np.ones((2, 3)), None)
    t.add(5, np.zeros((2, 3)), None)
    assert t.steps == [5] and t.frames[0].words.sum() == 0


def test_tsne_runs_in_a_child_reports_progress_and_refuses_too_few_points():
    rng = np.random.default_rng(5)
    x = np.vstack([rng.normal(0, 1, (15, 6)), rng.normal(8, 1, (15, 6))])
    seen = []
    y = run_tsne(x, perplexity=5, progress=seen.append)
    assert y.shape == (30, 2) and seen and seen[-1] > 0.5
    centres = np.stack([y[:15].mean(0), y[15:].mean(0)])
    nearest = np.linalg.norm(y[:, None] - centres[None], axis=2).argmin(1)
    assert (nearest == np.repeat([0, 1], 15)).all()  # the two clusters stay apart
    with pytest.raises(TsneError, match="at least 5"):
        run_tsne(x[:4])


def test_tsne_cancel_ends_the_child_within_a_second():
    x = np.random.default_rng(6).normal(size=(400, 32))
    flag, set_at = threading.Event(), []

    def cancel():
        set_at.append(time.monotonic())
        flag.set()

    threading.Timer(0.5, cancel).start()
    with pytest.raises(Cancelled):
        run_tsne(x, cancelled=flag.is_set)
    assert time.monotonic() - set_at[0] < 1.0


def test_the_bundled_model_ships_its_own_time_lapse_that_ends_at_its_weights(bundled):
    from core import resources
    from core.analysis.probes import word_vectors
    from core.embeddings.frames import frames_for_checkpoint

    path = resources.bundled_model("default")
    assert path.with_suffix(".frames.npz").stat().st_size <= 1_000_000
    timeline = frames_for_checkpoint(path)
    assert timeline.steps[0] == 0 and timeline.steps[-1] == bundled.meta["step"] and len(timeline.steps) > 10
    words = list(timeline.words)
    exact = word_vectors(bundled.model, bundled.tokenizer, words, "zh")
    assert np.allclose(timeline.frames[-1].words, exact, atol=2e-3)  # float16 frames of these very weights
    assert timeline.frames[0].purity < timeline.frames[-1].purity
