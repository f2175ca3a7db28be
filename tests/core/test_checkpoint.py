"""Checkpoints round-trip exactly, are written atomically, and every damaged or hostile file becomes one
CheckpointError line — quickly, without unpickling and without allocating what the file claims."""

from __future__ import annotations

import json
import os
import struct
import tempfile
import time
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import save_file as real_save_file

import core.model.checkpoint
from core.config import TrainConfig
from core.model.checkpoint import (
    FORMAT,
    CheckpointError,
    checkpoint_paths,
    load_checkpoint,
    save_checkpoint,
)
from core.model.tokenizer import train_tokenizer

TEXT = "猫坐在垫子上，它很舒服。它是猫。狗睡在沙发上，它很软。它是沙发。"
SAMPLE = "猫坐在垫子上，它很软。"


@pytest.fixture
def tok():
    return train_tokenizer("char", TEXT)


@pytest.fixture
def saved(tmp_path, tok, make_model) -> Path:
    """A 2-layer checkpoint at tmp_path/ckpt/model.safetensors (+ model.json)."""
    model = make_model(tok.vocab_size, n_layer=2)
    path = tmp_path / "ckpt" / "model.safetensors"
    save_checkpoint(path, model, tok, TrainConfig(seed=7), {"step": 3, "preset": "tiny"})
    return path


def _one_line_error(path, match: str | None = None) -> str:
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert message and "\n" not in message
    if match:
        assert match in message, message
    return message


def _edit_json(path: Path, edit) -> None:
    json_path = path.with_suffix(".json")
    doc = json.loads(json_path.read_text("utf-8"))
    edit(doc)
    json_path.write_text(json.dumps(doc), "utf-8")


def test_round_trip_keeps_weights_configs_tokenizer_and_meta(tmp_path, tok, make_model):
    model = make_model(tok.vocab_size, n_layer=2, objective="masked")
    with torch.no_grad():  # weights unlike any fresh init, so equality is not a coincidence
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    train_cfg = TrainConfig(seed=7, lr=1e-3, lang="zh")
    path = save_checkpoint(
        tmp_path / "run" / "model.safetensors", model, tok, train_cfg, {"step": 3, "x": "猫"}
    )
    assert Path(path).is_file() and Path(path).with_suffix(".json").is_file()

    ckpt = load_checkpoint(path)
    assert ckpt.model_cfg == model.cfg and ckpt.model.cfg == model.cfg
    assert ckpt.train_cfg == train_cfg
    assert ckpt.meta == {"step": 3, "x": "猫"}
    assert not ckpt.model.training
    loaded = ckpt.model.state_dict()
    for name, value in model.state_dict().items():
        assert torch.equal(loaded[name], value), name
    assert ckpt.model.lm_head.weight is ckpt.model.wte.weight  # still tied after loading
    assert ckpt.tokenizer.to_dict() == tok.to_dict()
    assert ckpt.tokenizer.encode(SAMPLE) == tok.encode(SAMPLE)
    x = torch.tensor([tok.encode(SAMPLE)])
    model.eval()
    with torch.no_grad():
        assert torch.equal(ckpt.model(x).logits, model(x).logits)


def test_a_run_folder_a_weights_path_and_a_json_path_name_the_same_checkpoint(saved):
    folder = saved.parent
    assert checkpoint_paths(folder) == checkpoint_paths(saved) == checkpoint_paths(saved.with_suffix(".json"))
    assert load_checkpoint(folder).meta["step"] == 3
    assert load_checkpoint(saved.with_suffix(".json")).meta["step"] == 3


def test_a_failed_save_leaves_the_previous_checkpoint_intact(saved, tok, make_model, monkeypatch):
    before = {p.name: p.read_bytes() for p in saved.parent.iterdir()}
    first = load_checkpoint(saved).model.state_dict()

    def crash_midway(tensors, filename, metadata=None):
        real_save_file(tensors, filename, metadata=metadata)
        with open(filename, "r+b") as f:  # half-written, as if the disk filled up
            f.truncate(os.path.getsize(filename) // 2)
        raise OSError("No space left on device")

    monkeypatch.setattr(core.model.checkpoint, "save_file", crash_midway)
    other = make_model(tok.vocab_size, seed=99, n_layer=2)
    with pytest.raises(OSError, match="No space"):
        save_checkpoint(saved, other, tok, TrainConfig(), {"step": 4})

    after = {p.name: p.read_bytes() for p in saved.parent.iterdir()}
    assert after == before, "the old files changed, or temporary files were left behind"
    ckpt = load_checkpoint(saved)
    assert ckpt.meta["step"] == 3
    for name, value in first.items():
        assert torch.equal(ckpt.model.state_dict()[name], value)


def test_a_save_interrupted_while_writing_the_json_leaves_no_temporary_file(
    saved, tok, make_model, monkeypatch
):
    def no_write(self, *args, **kwargs):
        raise KeyboardInterrupt  # even an interrupt must clean up

    monkeypatch.setattr(Path, "write_text", no_write)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(saved, make_model(tok.vocab_size, n_layer=2), tok, TrainConfig(), {"step": 5})
    monkeypatch.undo()
    assert sorted(p.name for p in saved.parent.iterdir()) == ["model.json", "model.safetensors"]
    assert json.loads(saved.with_suffix(".json").read_text("utf-8"))["meta"]["step"] == 3


def test_a_truncated_weights_file_is_a_checkpoint_error(saved):
    data = saved.read_bytes()
    saved.write_bytes(data[: len(data) // 2])
    _one_line_error(saved, saved.name)


def test_a_weights_file_cut_inside_the_header_is_a_checkpoint_error(saved):
    saved.write_bytes(saved.read_bytes()[:40])
    _one_line_error(saved, saved.name)


@pytest.mark.parametrize("content", [b"", b"1234567", os.urandom(4096), b"\xff" * 64])
def test_garbage_weights_are_a_checkpoint_error(saved, content):
    saved.write_bytes(content)
    _one_line_error(saved, saved.name)


@pytest.fixture
def safetensors_untouched(monkeypatch):
    """Fail the test if the file reaches the safetensors parser: the size checks must refuse it first."""

    def refuse(*args, **kwargs):
        raise AssertionError("the file was handed to safetensors")

    monkeypatch.setattr(core.model.checkpoint, "safe_open", refuse)
    monkeypatch.setattr(core.model.checkpoint, "load_file", refuse)


def test_an_oversized_header_claim_is_refused_without_reading_it(saved, safetensors_untouched):
    saved.write_bytes(struct.pack("<Q", 10**15) + b"{" + b" " * 100)
    t0 = time.perf_counter()
    _one_line_error(saved, "header")
    assert time.perf_counter() - t0 < 1.0


def test_a_header_claiming_more_than_the_file_holds_is_refused(saved, safetensors_untouched):
    saved.write_bytes(struct.pack("<Q", 5_000) + b'{"a": 1}')
    _one_line_error(saved, "header")


def test_a_file_shorter_than_the_length_prefix_is_refused(saved, safetensors_untouched):
    saved.write_bytes(b"\x01\x02\x03")
    _one_line_error(saved, "truncated")


def test_an_oversized_weights_file_is_refused_before_reading(saved, monkeypatch, safetensors_untouched):
    monkeypatch.setattr(core.model.checkpoint, "MAX_WEIGHTS_BYTES", 100)
    _one_line_error(saved, "too large")


def test_weights_of_another_architecture_are_refused(saved):
    _edit_json(saved, lambda doc: doc["model_config"].update(n_layer=3))
    _one_line_error(saved, "architecture")


def test_weights_of_another_width_are_refused(saved):
    _edit_json(saved, lambda doc: doc["model_config"].update(n_embd=8))
    _one_line_error(saved, "shape")


def test_a_description_too_big_for_its_weights_file_is_refused_by_size(saved):
    _edit_json(saved, lambda doc: doc["model_config"].update(n_embd=32))
    _one_line_error(saved, "parameters, more than this")


def test_non_finite_weights_are_refused(saved):
    from safetensors.torch import load_file

    tensors = load_file(str(saved))
    tensors["wte.weight"][0, 0] = float("nan")
    real_save_file(tensors, str(saved), metadata={"format": FORMAT})
    _one_line_error(saved, "NaN")


@pytest.mark.parametrize(
    "config",
    [
        {"n_embd": 10**9},
        {"n_layer": 10**6},
        {"vocab_size": 10**12},
        {"block_size": -1},
        {"n_layer": "2"},
        {"n_embd": 30, "n_head": 4},
    ],
)
def test_absurd_json_configs_fail_fast_without_building_a_model(saved, monkeypatch, config):
    def no_model(cfg):
        raise AssertionError(f"a model was built from {cfg}")

    monkeypatch.setattr(core.model.checkpoint, "GPT", no_model)
    _edit_json(saved, lambda doc: doc["model_config"].update(config))
    t0 = time.perf_counter()
    _one_line_error(saved, "model.json")
    assert time.perf_counter() - t0 < 1.0


def test_a_tokenizer_that_disagrees_with_the_model_is_refused(saved):
    _edit_json(saved, lambda doc: doc["tokenizer"]["vocab"].append("鱼"))
    _one_line_error(saved, "vocabulary")


@pytest.mark.parametrize(
    "tokenizer",
    [None, [], {"kind": "pickle"}, {"kind": "char", "vocab": "abc"}, {"kind": "char", "vocab": [1, 2]}],
)
def test_a_malformed_tokenizer_is_refused(saved, tokenizer):
    _edit_json(saved, lambda doc: doc.update(tokenizer=tokenizer))
    _one_line_error(saved, "model.json")


def test_a_missing_json_is_a_checkpoint_error(saved):
    saved.with_suffix(".json").unlink()
    _one_line_error(saved, "model.json")


def test_missing_weights_are_a_checkpoint_error(saved):
    saved.unlink()
    _one_line_error(saved, "model.safetensors")


def test_a_path_that_does_not_exist_is_a_checkpoint_error(tmp_path):
    _one_line_error(tmp_path / "nowhere" / "model.safetensors")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{not json",
        "[1, 2, 3]",
        '"a string"',
        '{"hello": "world"}',
        json.dumps({"format": "someone-elses/1", "model_config": {}}),
    ],
)
def test_json_that_is_not_a_checkpoint_is_refused(saved, text):
    saved.with_suffix(".json").write_text(text, "utf-8")
    _one_line_error(saved, "model.json")


def test_json_that_is_not_utf8_is_refused(saved):
    saved.with_suffix(".json").write_bytes(b'{"format": "\xff\xfe"}')
    _one_line_error(saved, "model.json")


def test_an_oversized_json_is_refused_before_parsing(saved, monkeypatch):
    monkeypatch.setattr(core.model.checkpoint, "MAX_JSON_BYTES", 100)
    _one_line_error(saved, "too large")


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_damage_to_the_weights_loads_or_is_a_checkpoint_error(saved, data):
    """Flip, cut or overwrite bytes anywhere: the loader may accept the file or refuse it, never crash."""
    original = saved.read_bytes()
    damaged = bytearray(original)
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        at = data.draw(st.integers(0, len(damaged) - 1), label="at")
        damaged[at] = data.draw(st.integers(0, 255), label="byte")
    damaged = damaged[: data.draw(st.integers(0, len(damaged)), label="keep")]
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "model.safetensors"
        target.write_bytes(bytes(damaged))
        target.with_suffix(".json").write_bytes(saved.with_suffix(".json").read_bytes())
        try:
            load_checkpoint(target)
        except CheckpointError as e:
            assert "\n" not in str(e)


def test_optimizer_state_round_trips_only_when_asked(tmp_path, tok, make_model):
    model = make_model(tok.vocab_size)
    state = {"state.0.exp_avg": torch.randn(3, 4), "state.0.step": torch.tensor(7.0)}
    path = save_checkpoint(tmp_path / "model.safetensors", model, tok, TrainConfig(), {}, state)
    assert (tmp_path / "model.optim.safetensors").is_file()
    assert load_checkpoint(path).optimizer_state == {}
    loaded = load_checkpoint(path, with_optimizer=True).optimizer_state
    assert loaded.keys() == state.keys()
    assert all(torch.equal(loaded[k], v) for k, v in state.items())


def test_a_corrupt_optimizer_file_is_a_checkpoint_error_when_resuming(tmp_path, tok, make_model):
    model = make_model(tok.vocab_size)
    path = save_checkpoint(tmp_path / "model.safetensors", model, tok, TrainConfig(), {}, {"a": torch.ones(2)})
    (tmp_path / "model.optim.safetensors").write_bytes(os.urandom(300))
    assert load_checkpoint(path).meta == {}  # viewing the model does not need the optimizer
    with pytest.raises(CheckpointError, match="model.optim.safetensors"):
        load_checkpoint(path, with_optimizer=True)


def test_a_save_interrupted_between_two_moves_falls_back_to_the_previous_checkpoint(
    saved, tok, make_model, monkeypatch
):
    """New weights beside the old JSON are detected (digest) and the generation kept beside them loads."""
    real_replace = os.replace
    calls = []

    def crash_after_first_move(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError("power cut")
        real_replace(src, dst)

    monkeypatch.setattr(core.model.checkpoint.os, "replace", crash_after_first_move)
    with pytest.raises(OSError, match="power cut"):
        save_checkpoint(saved, make_model(tok.vocab_size, seed=5, n_layer=2), tok, TrainConfig(), {"step": 9})
    monkeypatch.setattr(core.model.checkpoint.os, "replace", real_replace)
    assert not [p for p in saved.parent.iterdir() if p.name.endswith(".tmp")]
    ckpt = load_checkpoint(saved)
    assert ckpt.meta["step"] == 3 and "do not belong together" in ckpt.recovered
    save_checkpoint(saved, make_model(tok.vocab_size, seed=6, n_layer=2), tok, TrainConfig(), {"step": 10})
    assert load_checkpoint(saved).meta["step"] == 10
    assert sorted(p.name for p in saved.parent.iterdir()) == ["model.json", "model.safetensors"]


@pytest.mark.parametrize("objective", ["causal", "masked"])
def test_the_shapes_checked_before_loading_are_exactly_the_models(make_model, objective):
    from core.model.checkpoint import expected_shapes

    model = make_model(40, n_layer=3, objective=objective)
    real = {k: tuple(v.shape) for k, v in model.state_dict().items() if k != "lm_head.weight"}
    assert expected_shapes(model.cfg) == real


def test_a_checkpoints_world_language_comes_from_its_meta_then_its_config():
    from types import SimpleNamespace

    from core.config import TrainConfig, model_lang

    assert model_lang(SimpleNamespace(meta={"lang": "en"}, train_cfg=TrainConfig(lang="zh"))) == "en"
    assert model_lang(SimpleNamespace(meta={}, train_cfg=TrainConfig(lang="en"))) == "en"
    assert model_lang(SimpleNamespace(meta={"lang": "fr"}, train_cfg=None)) == "zh"  # unknown: default
    assert model_lang(None) == "zh"
