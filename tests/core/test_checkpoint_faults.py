"""A save can only succeed or leave the previous checkpoint loadable: an OSError injected at every write,
link and move of a save, and SIGKILLs at random moments of a process that saves without pause."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

import core.model.checkpoint as C
from core.config import TrainConfig
from core.model.checkpoint import load_checkpoint, save_checkpoint
from core.model.tokenizer import train_tokenizer

ROOT = Path(__file__).resolve().parents[2]
TEXT = "猫坐在垫子上，它很舒服。它是猫。狗睡在沙发上，它很软。它是沙发。"


class _Faults:
    """Counts the file operations of a save and raises OSError at the `fail_at`-th one."""

    OPS = ("save_file", "replace", "link", "fsync", "write_text", "unlink")

    def __init__(self, monkeypatch, fail_at: int | None):
        self.fail_at, self.count, self.names = fail_at, 0, []
        for name, owner in (
            ("save_file", C),
            ("replace", os),
            ("link", os),
            ("fsync", os),
            ("write_text", Path),
            ("unlink", Path),
        ):
            monkeypatch.setattr(owner, name, self._wrap(name, getattr(owner, name)))

    def _wrap(self, name, real):
        def op(*args, **kwargs):
            self.count += 1
            self.names.append(name)
            if self.count == self.fail_at:
                raise OSError(28, f"injected at {name}")
            return real(*args, **kwargs)

        return op


def _save(path, model, tok, step):
    state = {"state.0.exp_avg": torch.full((3,), float(step))}
    return save_checkpoint(path, model, tok, TrainConfig(), {"step": step}, state)


def test_an_oserror_at_any_write_or_move_of_a_save_leaves_a_loadable_checkpoint(
    tmp_path, make_model, monkeypatch
):
    tok = train_tokenizer("char", TEXT)
    old, new = make_model(tok.vocab_size, seed=1), make_model(tok.vocab_size, seed=2)
    _save(tmp_path / "probe" / "model.safetensors", old, tok, 1)
    with monkeypatch.context() as m:  # how many operations a save over an earlier one performs
        counter = _Faults(m, None)
        _save(tmp_path / "probe" / "model.safetensors", new, tok, 2)
    n_ops = counter.count
    seen = {}
    for fail_at in range(1, n_ops + 1):
        path = tmp_path / f"f{fail_at}" / "model.safetensors"
        _save(path, old, tok, 3)
        with monkeypatch.context() as m:
            faults = _Faults(m, fail_at)
            try:
                _save(path, new, tok, 4)
            except OSError:
                pass
        ckpt = load_checkpoint(path, with_optimizer=True)  # never raises: one of the two generations
        step = ckpt.meta["step"]
        assert step in (3, 4)
        source = old if step == 3 else new
        assert torch.equal(ckpt.model.wte.weight, source.wte.weight)
        assert ckpt.optimizer_state["state.0.exp_avg"][0].item() == step  # the optimizer of the same save
        assert not list(path.parent.glob("*.tmp")), f"temporary files left at operation {fail_at}"
        seen[fail_at] = (faults.names[fail_at - 1], step)
        _save(path, new, tok, 5)  # the next save works and leaves exactly one generation
        assert load_checkpoint(path).meta["step"] == 5
        assert sorted(p.name for p in path.parent.iterdir()) == [
            "model.json",
            "model.optim.safetensors",
            "model.safetensors",
        ]
    ops = {name for name, _ in seen.values()}
    assert {"save_file", "replace", "link", "write_text"} <= ops, seen
    print(f"\ninjected OSError at each of {len(seen)} operations; loadable after all {len(seen)}: {seen}")


KILLEE = textwrap.dedent(
    """
    import os, random, signal, sys, time, json
    import torch
    torch.set_num_threads(1)
    from core.config import ModelConfig, TrainConfig
    from core.model.checkpoint import load_checkpoint, save_checkpoint
    from core.model.gpt import GPT
    from core.model.tokenizer import train_tokenizer

    folder, kills = sys.argv[1], int(sys.argv[2])
    tok = train_tokenizer("char", "猫坐在垫子上，它很舒服。狗睡在沙发上。")
    model = GPT(ModelConfig(vocab_size=tok.vocab_size, n_layer=2, n_head=2, n_embd=64, block_size=32))
    path = os.path.join(folder, "model.safetensors")
    state = {"m": torch.zeros(4096)}
    save_checkpoint(path, model, tok, TrainConfig(), {"step": 0}, state)
    rng, results, step = random.Random(0), [], 0
    for k in range(kills):
        pid = os.fork()
        if pid == 0:  # the child saves one checkpoint after another until it is killed
            while True:
                step += 1
                with torch.no_grad():
                    model.wte.weight.add_(1.0)
                save_checkpoint(path, model, tok, TrainConfig(), {"step": step}, state)
        time.sleep(rng.uniform(0.02, 0.4))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        try:
            ck = load_checkpoint(path, with_optimizer=True)
            got = ck.meta["step"]
            ok = bool((ck.model.wte.weight - ck.model.wte.weight.flatten()[0]).abs().max() < 1e9)
            results.append({"step": got, "recovered": bool(ck.recovered), "ok": ok})
            step = got
        except Exception as e:
            results.append({"error": str(e)})
    print(json.dumps(results))
    """
)


@pytest.mark.slow
def test_sigkill_at_random_moments_of_saving_always_leaves_a_loadable_checkpoint(tmp_path):
    """12 kills at random moments of a process saving back to back (most moments fall inside a save)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", KILLEE, str(tmp_path), "12"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    results = json.loads(out.stdout.strip().splitlines()[-1])
    errors = [r for r in results if "error" in r]
    assert len(results) == 12 and not errors, results
    recovered = sum(r["recovered"] for r in results)
    print(f"\n12 SIGKILLs, 12 loadable ({recovered} from the generation kept beside an interrupted save)")
    print(f"temporary files the kills left: {len(list(Path(tmp_path).glob('*.tmp')))}")
    save_script = (
        "from core.model.checkpoint import *; c = load_checkpoint(%r); "
        "save_checkpoint(%r, c.model, c.tokenizer, c.train_cfg, c.meta)"
    )
    subprocess.run(
        [sys.executable, "-c", save_script % (str(tmp_path), str(tmp_path))], env=env, check=True, timeout=120
    )
    left = sorted(p.name for p in Path(tmp_path).iterdir())
    assert left == ["model.json", "model.safetensors"], left  # the next save cleans up what the kills left


CRAFTED = textwrap.dedent(
    """
    import json, resource, sys, time
    from core.model.checkpoint import CheckpointError, load_checkpoint
    path = sys.argv[1]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    try:
        load_checkpoint(path)
        message = None
    except CheckpointError as e:
        message = str(e)
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"message": message, "seconds": seconds, "peak_kb": after, "growth_kb": after - before}))
    """
)


@pytest.mark.parametrize(
    "shape", [{"n_layer": 39, "n_embd": 2048, "n_head": 16}, {"n_layer": 48, "n_embd": 4096}]
)
def test_a_crafted_big_config_beside_tiny_weights_is_refused_at_once_in_little_memory(
    tmp_path, make_model, shape
):
    """The tester's 73 KB file: a JSON asking for an in-bounds giant model next to tiny weights (it took
    51 s and 7.9 GB before). Measured in a fresh process: time of the load, growth of its peak RSS."""
    tok = train_tokenizer("char", TEXT)
    path = tmp_path / "model.safetensors"
    save_checkpoint(path, make_model(tok.vocab_size), tok, TrainConfig(), {"step": 1})
    doc = json.loads(path.with_suffix(".json").read_text("utf-8"))
    doc["model_config"].update(shape)
    path.with_suffix(".json").write_text(json.dumps(doc), "utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", CRAFTED, str(path)], capture_output=True, text=True, env=env, timeout=120
    )
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"\n{shape}: refused in {r['seconds'] * 1000:.0f} ms, peak RSS grew {r['growth_kb'] / 1024:.1f} MB "
        f"(process peak {r['peak_kb'] / 1024:.0f} MB): {r['message']}"
    )
    assert r["message"] and "parameters" in r["message"]
    assert r["seconds"] < 1.0
    assert r["growth_kb"] < 200 * 1024
