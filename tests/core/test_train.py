"""The trainer's event protocol: what comes first, what comes last, that stop is honoured within one
step from any thread, that a NaN loss or a bad corpus ends the run with one Failed line, and the
learning-rate schedule."""

from __future__ import annotations

import math
import threading
from dataclasses import replace

import numpy as np
import pytest
import torch

import core.training.step
import core.training.trainer
from core.config import ConfigError, TrainConfig
from core.cost.flops import model_flops_per_token
from core.events import Done, Eval, Failed, Snapshot, Started, Step
from core.model.checkpoint import load_checkpoint
from core.runlog import read_metrics
from core.training.trainer import Trainer, lr_at


@pytest.fixture
def every_step(monkeypatch):
    """One Step event per optimizer step, so tests can count steps exactly."""
    monkeypatch.setattr(core.training.trainer, "STEP_EVENT_INTERVAL_S", 0.0)


@pytest.fixture
def make_trainer(zh_world, tiny_model_cfg, tmp_path):
    """A Trainer on the small world corpus writing to tmp_path/run."""

    def make(cfg: TrainConfig) -> Trainer:
        return Trainer(tiny_model_cfg, cfg, out_dir=str(tmp_path / "run"), preset="tiny", corpus=zh_world)

    return make


def test_event_order_metrics_log_and_checkpoint(
    zh_world, tiny_model_cfg, make_trainer, tiny_train_cfg, tmp_path, every_step
):
    cfg = replace(tiny_train_cfg, lr=1e-2)
    trainer = make_trainer(cfg)
    events = list(trainer.run())
    kinds = [type(e).__name__ for e in events]
    assert not any(isinstance(e, Failed) for e in events), kinds

    started = events[0]
    assert isinstance(started, Started)
    assert started.total_steps == cfg.steps and started.preset == "tiny"
    assert started.vocab_size == trainer.tokenizer.vocab_size
    assert started.n_params == trainer.model.n_params()
    assert started.corpus_chars == len(zh_world.train_text)

    baseline = events[1]  # the untrained model, before any step
    assert isinstance(baseline, Eval) and baseline.step == 0
    assert baseline.val_loss == pytest.approx(math.log(started.vocab_size), rel=0.1)
    assert {"coref_acc", "neighbor_purity", "val_loss"} <= set(baseline.metrics)
    assert isinstance(events[2], Snapshot) and events[2].step == 0

    steps = [e for e in events if isinstance(e, Step)]
    assert [s.step for s in steps] == list(range(1, cfg.steps + 1))
    assert events.index(steps[0]) > 1
    tokens_per_step = cfg.batch_size * tiny_model_cfg.block_size
    per_token = model_flops_per_token(trainer.model_cfg)
    for s in steps:
        assert s.tokens == s.step * tokens_per_step
        assert s.flops == pytest.approx(s.tokens * per_token)
        assert s.lr == pytest.approx(lr_at(s.step - 1, (s.step - 1) / cfg.steps, cfg))
        assert math.isfinite(s.loss) and s.tokens_per_s > 0
    assert steps[-1].progress == 1.0

    evals = [e for e in events if isinstance(e, Eval)]
    assert [e.step for e in evals] == [0, 6, 12, 12]  # every eval_every, then the final full evaluation
    assert evals[-1].val_loss < baseline.val_loss

    snap = [e for e in events if isinstance(e, Snapshot)][-1]
    assert snap.embeddings.shape == (len(zh_world.categories), tiny_model_cfg.n_embd)
    assert snap.embeddings.dtype == np.float32
    n = len(snap.probe_tokens)
    assert snap.attention.shape == (tiny_model_cfg.n_layer, tiny_model_cfg.n_head, n, n)

    done = events[-1]
    assert isinstance(done, Done) and done.reason == "finished"
    assert sum(isinstance(e, Done) for e in events) == 1
    m = done.metrics
    assert m["steps"] == cfg.steps
    assert m["tokens"] == cfg.steps * tokens_per_step
    assert m["flops"] == pytest.approx(m["tokens"] * per_token)
    for key in ("coref_acc", "neighbor_purity", "val_loss", "train_loss", "tokens_per_s"):
        assert key in m and math.isfinite(m[key]), key
    assert 0.0 <= m["coref_acc"] <= 1.0 and 0.0 <= m["neighbor_purity"] <= 1.0
    assert m["baseline_val_loss"] == baseline.val_loss

    assert done.checkpoint_path and (tmp_path / "run" / "model.safetensors").samefile(done.checkpoint_path)
    ckpt = load_checkpoint(done.checkpoint_path)
    assert ckpt.meta["step"] == cfg.steps and ckpt.meta["preset"] == "tiny"
    for name, p in trainer.model.state_dict().items():
        assert torch.equal(ckpt.model.state_dict()[name], p), name

    records = read_metrics(tmp_path / "run")
    types = [r["type"] for r in records]
    assert types[0] == "started" and types[-1] == "done"
    assert types.count("step") == len(steps) and types.count("eval") == len(evals)
    assert records[1]["type"] == "eval" and records[1]["step"] == 0
    assert records[-1]["metrics"]["steps"] == cfg.steps


def test_read_metrics_skips_lines_that_are_not_records(tmp_path):
    (tmp_path / "metrics.jsonl").write_text(
        '{"type": "step", "step": 1}\nnot json\n[1, 2]\n{"no_type": 1}\n{"type": "done"', "utf-8"
    )
    assert read_metrics(tmp_path) == [{"type": "step", "step": 1}]


def test_stop_from_the_consumer_ends_the_run_within_one_step(
    make_trainer, tiny_train_cfg, tmp_path, every_step
):
    trainer = make_trainer(replace(tiny_train_cfg, steps=1000, eval_every=10**6))
    events, stopped_at = [], None
    for event in trainer.run():
        events.append(event)
        if isinstance(event, Step) and event.step == 3 and stopped_at is None:
            trainer.stop()
            stopped_at = event.step
    assert stopped_at == 3
    done = events[-1]
    assert isinstance(done, Done) and done.reason == "stopped"
    assert stopped_at <= done.metrics["steps"] <= stopped_at + 1
    assert max(e.step for e in events if isinstance(e, Step)) <= stopped_at + 1
    assert load_checkpoint(done.checkpoint_path).meta["step"] == done.metrics["steps"]


def test_stop_from_another_thread_while_the_consumer_waits(make_trainer, tiny_train_cfg, tmp_path, every_step):
    trainer = make_trainer(replace(tiny_train_cfg, steps=1000, eval_every=10**6))
    events = []
    for event in trainer.run():
        events.append(event)
        if isinstance(event, Step) and event.step == 2:
            worker = threading.Thread(target=trainer.stop)
            worker.start()
            worker.join(5)
    done = events[-1]
    assert isinstance(done, Done) and done.reason == "stopped"
    assert 2 <= done.metrics["steps"] <= 3


def test_stop_from_another_thread_while_training_runs(make_trainer, tiny_train_cfg, tmp_path, every_step):
    """The realistic case: the GUI thread presses Stop while the worker is busy in a step."""
    trainer = make_trainer(replace(tiny_train_cfg, steps=2000, eval_every=10**6))
    running, stop_called = threading.Event(), threading.Event()

    def press_stop():
        running.wait(30)
        trainer.stop()
        stop_called.set()

    worker = threading.Thread(target=press_stop)
    worker.start()
    events, steps_after_stop = [], 0
    for event in trainer.run():
        events.append(event)
        if isinstance(event, Step):
            if stop_called.is_set():
                steps_after_stop += 1
            if event.step == 3:
                running.set()
    worker.join(5)
    done = events[-1]
    assert isinstance(done, Done) and done.reason == "stopped"
    assert done.metrics["steps"] < 2000
    # The step in progress when stop() was called may finish, and its event may be read after the flag.
    assert steps_after_stop <= 2


def test_a_seconds_budget_ends_with_reason_time(make_trainer, tiny_train_cfg, tmp_path):
    cfg = replace(tiny_train_cfg, steps=0, seconds=0.5, eval_every=10**6)
    trainer = make_trainer(cfg)
    events = list(trainer.run())
    assert isinstance(events[0], Started) and events[0].total_steps == 0 and events[0].total_seconds == 0.5
    done = events[-1]
    assert isinstance(done, Done) and done.reason == "time"
    assert done.metrics["steps"] >= 1


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_non_finite_loss_fails_the_run_and_keeps_the_last_good_checkpoint(
    make_trainer, tiny_train_cfg, tmp_path, monkeypatch, every_step, bad
):
    real = core.training.step.compute_loss  # the training step's loss (evaluation uses the trainer's)
    training_calls = 0

    def poisoned(model, x, y):
        nonlocal training_calls
        if not model.training:  # evaluation passes are left alone
            return real(model, x, y)
        training_calls += 1
        if training_calls >= 5:
            return torch.tensor(bad, requires_grad=True)
        return real(model, x, y)

    monkeypatch.setattr(core.training.step, "compute_loss", poisoned)
    cfg = replace(tiny_train_cfg, steps=50, checkpoint_every=2, eval_every=10**6, snapshot_every=10**6)
    trainer = make_trainer(cfg)
    events = list(trainer.run())

    failed = events[-1]
    assert isinstance(failed, Failed), [type(e).__name__ for e in events]
    assert sum(isinstance(e, Failed) for e in events) == 1
    assert not any(isinstance(e, Done) for e in events)
    assert "loss" in failed.message and str(bad) in failed.message
    assert "\n" not in failed.message
    assert max(e.step for e in events if isinstance(e, Step)) == 4
    assert failed.checkpoint_path, "the last good checkpoint (step 4) should be offered"
    assert load_checkpoint(failed.checkpoint_path).meta["step"] == 4
    assert read_metrics(tmp_path / "run")[-1]["type"] == "failed"


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"", "empty"),
        (b"\x00\x01\x02\x03binary\xff\xfe" * 50, "binary"),
        ("猫".encode() + b"\xff\xfe\xfd" + "狗".encode() * 100, "UTF-8"),
        ("猫坐在垫子上。".encode() * 3, "characters"),  # too short
    ],
)
def test_a_bad_corpus_file_fails_with_one_line(tiny_model_cfg, tmp_path, tiny_train_cfg, content, expected):
    path = tmp_path / "corpus.txt"
    path.write_bytes(content)
    trainer = Trainer(tiny_model_cfg, tiny_train_cfg, corpus_path=str(path), out_dir=str(tmp_path / "run"))
    events = list(trainer.run())  # no exception may escape
    assert len(events) == 1 and isinstance(events[0], Failed)
    message = events[0].message
    assert "\n" not in message and "Traceback" not in message
    assert expected in message and "corpus.txt" in message


@pytest.mark.parametrize("where", ["missing.txt", "."])
def test_a_missing_corpus_file_or_a_folder_fails_with_one_line(tiny_model_cfg, tmp_path, tiny_train_cfg, where):
    trainer = Trainer(
        tiny_model_cfg, tiny_train_cfg, corpus_path=str(tmp_path / where), out_dir=str(tmp_path / "r")
    )
    events = list(trainer.run())
    assert len(events) == 1 and isinstance(events[0], Failed)
    assert "\n" not in events[0].message and events[0].message


def test_a_text_shorter_than_the_context_fails_with_one_line(tiny_model_cfg, tmp_path, tiny_train_cfg):
    path = tmp_path / "short.txt"
    path.write_text("猫坐在垫子上，它很舒服。" * 8, "utf-8")  # long enough, but not for 256-token windows
    trainer = Trainer(
        replace(tiny_model_cfg, block_size=256),
        tiny_train_cfg,
        corpus_path=str(path),
        out_dir=str(tmp_path / "r"),
    )
    events = list(trainer.run())
    assert len(events) == 1 and isinstance(events[0], Failed)
    assert "\n" not in events[0].message


def test_bad_configs_are_refused_when_the_trainer_is_built(tiny_model_cfg, tmp_path):
    with pytest.raises(ConfigError):
        Trainer(tiny_model_cfg, TrainConfig(steps=-5), out_dir=str(tmp_path))
    with pytest.raises(ConfigError):
        Trainer(tiny_model_cfg, TrainConfig(steps=0, seconds=0.0), out_dir=str(tmp_path))
    with pytest.raises(ConfigError):
        Trainer(replace(tiny_model_cfg, n_layer=10**6), TrainConfig(), out_dir=str(tmp_path))


def test_lr_warms_up_linearly_then_decays_by_cosine_to_the_floor():
    cfg = TrainConfig(lr=1e-3, warmup_steps=10, min_lr_ratio=0.1)
    assert lr_at(0, 0.0, cfg) == pytest.approx(1e-4)
    assert lr_at(4, 0.04, cfg) == pytest.approx(5e-4)
    assert lr_at(9, 0.09, cfg) == pytest.approx(1e-3)
    assert lr_at(10, 0.0, cfg) == pytest.approx(1e-3)  # cosine starts at the peak
    assert lr_at(50, 0.5, cfg) == pytest.approx(1e-3 * (0.1 + 0.9 * 0.5))  # 5.5e-4, halfway
    assert lr_at(75, 0.75, cfg) == pytest.approx(1e-3 * (0.1 + 0.9 * 0.5 * (1 + math.cos(0.75 * math.pi))))
    assert lr_at(100, 1.0, cfg) == pytest.approx(1e-4)  # the floor: lr × min_lr_ratio
    assert lr_at(200, 3.0, cfg) == pytest.approx(1e-4)  # never below it, even past the budget
    decay = [lr_at(s, s / 100, cfg) for s in range(10, 101)]
    assert all(a >= b for a, b in zip(decay, decay[1:], strict=False))
    no_warmup = replace(cfg, warmup_steps=0)
    assert lr_at(0, 0.0, no_warmup) == pytest.approx(1e-3)
    assert lr_at(0, 1.0, replace(cfg, warmup_steps=0, min_lr_ratio=0.0)) == pytest.approx(0.0)


def test_a_time_based_checkpoint_is_saved_during_the_run(make_trainer, tiny_train_cfg, monkeypatch):
    """checkpoint_seconds (5 minutes by default) saves mid-run, so a killed run keeps its recent steps."""
    cfg = replace(tiny_train_cfg, steps=4, checkpoint_seconds=1e-9)
    trainer = make_trainer(cfg)
    saved = []
    real_save = Trainer._save
    monkeypatch.setattr(Trainer, "_save", lambda self, step, m: saved.append(step) or real_save(self, step, m))
    list(trainer.run())
    assert saved == [1, 2, 3, 4, 4]  # every step (the interval has always passed), then the final save
    assert TrainConfig().checkpoint_seconds == 300.0


def test_a_stop_while_preparing_ends_the_run_without_a_model(make_trainer, tiny_train_cfg):
    trainer = make_trainer(tiny_train_cfg)
    trainer.stop()
    events = list(trainer.run())
    assert [type(e) for e in events] == [Done] and events[0].reason == "stopped"


def test_closing_the_run_leaves_an_abandoned_end_record(make_trainer, tiny_train_cfg, tmp_path):
    """The window's "discard": the generator is closed at an event; metrics.jsonl still says how it ended."""
    run = make_trainer(replace(tiny_train_cfg, steps=1000)).run()
    for event in run:
        if isinstance(event, Step):
            break
    run.close()
    last = read_metrics(tmp_path / "run")[-1]
    assert last["type"] == "done" and last["reason"] == "abandoned" and last["metrics"]["steps"] >= 1


def test_a_large_text_reports_its_preparation(zh_world, tiny_model_cfg, tiny_train_cfg, tmp_path, monkeypatch):
    monkeypatch.setattr(core.training.trainer, "PREPARING_CHARS", 1000)
    trainer = Trainer(tiny_model_cfg, tiny_train_cfg, out_dir=str(tmp_path / "run"), corpus=zh_world)
    first = next(iter(trainer.run()))
    assert type(first).__name__ == "Preparing" and first.stage == "tokenizer"


def test_a_run_that_fails_mid_way_ends_its_log_with_the_failure(
    make_trainer, tiny_train_cfg, tmp_path, monkeypatch
):
    def broken_snapshot(self, step):
        raise RuntimeError("injected")

    monkeypatch.setattr(Trainer, "_snapshot", broken_snapshot)
    events = list(make_trainer(tiny_train_cfg).run())
    assert isinstance(events[-1], Failed)
    last = read_metrics(tmp_path / "run")[-1]
    assert last["type"] == "failed" and "injected" in last["message"]
