"""The distillation engine: each loss against a hand computation, the frozen teacher, the race's fairness
(same start, same batches), cached = live, stop within a step, and the refusals."""

from __future__ import annotations

import hashlib
import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from core.config import ConfigError, ModelConfig, TrainConfig
from core.data.world import world_corpus
from core.distill import teacher as teachers
from core.distill.config import DistillConfig
from core.distill.distiller import Distiller
from core.distill.losses import attention_loss, hidden_loss, kd_loss, kd_loss_topk, layer_map
from core.distill.verdict import race_verdict
from core.events import Done, Eval, Failed, Started, Step
from core.model.checkpoint import Checkpoint
from core.model.gpt import GPT
from core.model.tokenizer import CharTokenizer, train_tokenizer
from core.training.batches import sample_batch

TEACHER_CFG = ModelConfig(n_layer=2, n_head=4, n_embd=32, block_size=16)
STUDENT_CFG = ModelConfig(n_layer=1, n_head=2, n_embd=16, block_size=16)


def tiny_train(steps: int = 4, **kw) -> TrainConfig:
    return TrainConfig(batch_size=4, steps=steps, seconds=0.0, warmup_steps=1, seed=3, **kw)


@pytest.fixture(scope="module")
def corpus():
    return world_corpus("zh", 0, n_train_chars=6_000)


@pytest.fixture(scope="module")
def tiny_teacher(corpus):
    tok = train_tokenizer("char", corpus.train_text)
    torch.manual_seed(0)
    cfg = replace(TEACHER_CFG, vocab_size=tok.vocab_size)
    model = GPT(cfg).eval()
    return Checkpoint(model, tok, cfg, TrainConfig(), {"metrics": {"flops": 1e12}}, "tiny-teacher")


def make(tiny_teacher, corpus, dc=None, steps=4, out=None, **kw):
    return Distiller(
        tiny_teacher, STUDENT_CFG, tiny_train(steps, **kw), dc or DistillConfig(), out, "tiny", corpus
    )


# -- the losses, by hand -------------------------------------------------------------------------------


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_kd_loss_equals_the_hand_computation():
    s = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    t = np.array([[2.0, 0.0, 1.0], [1.0, 1.0, 1.0]])
    T = 2.0
    p, q = _softmax(t / T), _softmax(s / T)
    expected = T * T * np.mean((p * np.log(p / q)).sum(-1))
    got = kd_loss(torch.tensor(s), torch.tensor(t), T)
    assert float(got) == pytest.approx(expected, rel=1e-9)


def test_kd_loss_is_zero_when_the_student_equals_the_teacher():
    z = torch.randn(3, 5, 7)
    assert float(kd_loss(z, z.clone(), 3.0)) == pytest.approx(0.0, abs=1e-6)
    assert float(kd_loss(z, z + 1.0, 1.5)) == pytest.approx(0.0, abs=1e-6)  # a shift is the same distribution


def test_kd_loss_carries_the_t_squared_factor():
    s, t = torch.randn(4, 9), torch.randn(4, 9)
    for T in (1.0, 2.0, 4.0):
        kl = torch.nn.functional.kl_div(
            torch.log_softmax(s / T, -1), torch.log_softmax(t / T, -1), log_target=True, reduction="none"
        )
        assert float(kd_loss(s, t, T)) == pytest.approx(T * T * float(kl.sum(-1).mean()), rel=1e-5)
    # and the gradient it gives keeps its scale as T grows (the reason for T²): within 2x from T=2 to T=8
    grads = []
    for T in (2.0, 8.0):
        x = s.clone().requires_grad_(True)
        kd_loss(x, t, T).backward()
        grads.append(float(x.grad.norm()))
    assert 0.5 < grads[1] / grads[0] < 2.0


def test_masked_positions_are_left_out():
    s, t = torch.randn(2, 3, 5), torch.randn(2, 3, 5)
    mask = torch.tensor([[True, False, False], [False, False, False]])
    assert float(kd_loss(s, t, 1.0, mask)) == pytest.approx(float(kd_loss(s[0, :1], t[0, :1], 1.0)), rel=1e-6)


def test_topk_kd_with_every_token_is_the_full_kd_and_keeps_the_rest_bucket():
    s, t = torch.randn(2, 4, 11), torch.randn(2, 4, 11)
    logp = torch.log_softmax(t / 2.0, -1)
    full = logp.topk(11, -1)
    assert float(kd_loss_topk(s, full.values, full.indices, 2.0)) == pytest.approx(
        float(kd_loss(s, t, 2.0)), abs=1e-5
    )
    # with k = 3 the KL is taken over 3 tokens + "the rest": by hand for one position
    top = logp.topk(3, -1)
    p_top, q = top.values[0, 0].exp(), torch.softmax(s[0, 0] / 2.0, -1)[top.indices[0, 0]]
    rest_p, rest_q = 1 - p_top.sum(), 1 - q.sum()
    by_hand = 4.0 * (float((p_top * (p_top.log() - q.log())).sum()) + float(rest_p * (rest_p / rest_q).log()))
    got = kd_loss_topk(s[:1, :1], top.values[:1, :1], top.indices[:1, :1], 2.0)
    assert float(got) == pytest.approx(by_hand, rel=1e-5)


def test_layer_map_is_uniform_and_ends_on_the_last_layer():
    assert layer_map(2, 4) == [(0, 1), (1, 3)]
    assert layer_map(4, 4) == [(0, 0), (1, 1), (2, 2), (3, 3)]
    assert layer_map(1, 3) == [(0, 2)]


def test_hidden_and_attention_transfer_across_widths_and_head_counts():
    torch.manual_seed(0)
    t_model = GPT(replace(TEACHER_CFG, vocab_size=20)).eval()
    s_model = GPT(replace(STUDENT_CFG, vocab_size=20))
    x = torch.randint(0, 20, (3, 16))
    t_out = teachers.live_outputs(t_model, x, True, True)
    assert t_out.hidden[0].shape[-1] == 32 and t_out.attentions[0].shape[1] == 4
    pairs = layer_map(1, 2)
    proj = torch.nn.ModuleList([torch.nn.Linear(16, 32, bias=False)])
    opt = torch.optim.Adam([*s_model.parameters(), *proj.parameters()], lr=1e-2)
    first = None
    for _ in range(8):
        out = s_model(x, need_attn=True, need_hidden=True)
        loss = hidden_loss(out.hidden_states[1:], t_out.hidden, list(proj), pairs) + attention_loss(
            out.attentions, t_out.attentions, pairs
        )
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        assert proj[0].weight.grad is not None and s_model.blocks[0].attn.qkv.weight.grad.abs().sum() > 0
        opt.step()
    assert loss.item() < 0.8 * first  # the student really moves toward the teacher's notes
    # attention KL is zero against itself, and heads are averaged only when counts differ
    same = attention_loss(t_out.attentions, t_out.attentions)
    assert float(same) == pytest.approx(0.0, abs=1e-6)


# -- the race ------------------------------------------------------------------------------------------


def test_both_students_start_identical_see_identical_batches_and_the_teacher_stays_frozen(
    tiny_teacher, corpus, tmp_path
):
    before = {k: v.clone() for k, v in tiny_teacher.model.state_dict().items()}
    d = make(tiny_teacher, corpus, steps=5, out=str(tmp_path))
    events = list(d.run())
    assert isinstance(events[-1], Done), events[-1]
    a, b = d.students["distilled"], d.students["scratch"]
    assert a.initial_digest == b.initial_digest
    assert a.batch_digest.hexdigest() == b.batch_digest.hexdigest()
    # ...and they are the batches the trainer's rule gives for this seed (hashed independently)
    ids = torch.tensor(d.tokenizer.encode(corpus.train_text))
    expected = hashlib.sha256()
    for step in range(5):
        gen = torch.Generator().manual_seed(3 * 1_000_003 + step)
        x, y = sample_batch(ids, 4, 16, "causal", d.tokenizer, gen)
        expected.update(x.numpy().tobytes())
        expected.update(y.numpy().tobytes())
    assert a.batch_digest.hexdigest() == expected.hexdigest()
    # the students diverged (one was taught), the teacher did not move and has no gradient
    assert not torch.equal(a.model.wte.weight, b.model.wte.weight)
    assert all(p.grad is None and not p.requires_grad for p in tiny_teacher.model.parameters())
    assert all(torch.equal(before[k], v) for k, v in tiny_teacher.model.state_dict().items())
    assert not tiny_teacher.model.training
    # both checkpoints written, and the verdict is in Done
    assert (tmp_path / "distilled" / "model.safetensors").exists()
    assert (tmp_path / "scratch" / "model.safetensors").exists()
    assert "steps_ratio" in events[-1].metrics and "flops_ratio_cached" in events[-1].metrics


def test_a_race_with_hidden_and_attention_terms_runs_and_trains_the_projection(tiny_teacher, corpus):
    d = make(tiny_teacher, corpus, DistillConfig(hidden_weight=1.0, attn_weight=1.0), steps=3)
    events = list(d.run())
    assert isinstance(events[-1], Done), events[-1]
    proj = d.students["distilled"].projections
    assert proj is not None and proj[0].weight.shape == (32, 16)
    assert proj[0].weight.grad is not None


def test_cached_and_live_teacher_give_the_same_loss(tiny_teacher, corpus):
    teachers.forget()
    live = make(tiny_teacher, corpus, DistillConfig(temperature=2.0, alpha=0.7), steps=3)
    cached = make(
        tiny_teacher,
        corpus,
        DistillConfig(temperature=2.0, alpha=0.7, cache_teacher=True, top_k=10_000),
        steps=3,
    )
    ids_l, _ = live.prepare()
    ids_c, _ = cached.prepare()
    cached._make_cache(ids_c)
    for step in range(3):
        x, y = live.batch_at(ids_l, step)
        a = live.distill_loss(live.students["distilled"], x, y, step)
        b = cached.distill_loss(cached.students["distilled"], x, y, step)
        assert a.item() == pytest.approx(b.item(), abs=1e-5)
    teachers.forget()


def test_stop_lands_within_one_step(tiny_teacher, corpus):
    d = make(tiny_teacher, corpus, steps=10_000)
    seen = None
    for event in d.run():
        if isinstance(event, Step) and seen is None:
            seen = event.step
            d.stop()
        if isinstance(event, Done):
            assert event.reason == "stopped"
            assert event.metrics["steps"] <= seen + 1
            break
    else:
        pytest.fail("no Done")


def test_nan_ends_with_failed(tiny_teacher, corpus):
    bad = Checkpoint(
        GPT(tiny_teacher.model_cfg).eval(),
        tiny_teacher.tokenizer,
        tiny_teacher.model_cfg,
        TrainConfig(),
        {},
        "nan",
    )
    with torch.no_grad():
        bad.model.lm_head.weight.fill_(float("nan"))
    events = list(make(bad, corpus, steps=3).run())
    assert isinstance(events[0], Started) and isinstance(events[-1], Failed)
    assert "nan" in events[-1].message.lower()


@pytest.mark.parametrize(
    "kw",
    [{"temperature": 0.0}, {"temperature": -1.0}, {"alpha": 1.2}, {"alpha": -0.1}, {"hidden_weight": -1.0}],
)
def test_bad_settings_are_refused_before_anything_runs(kw, tiny_teacher, corpus):
    with pytest.raises(ConfigError):
        make(tiny_teacher, corpus, DistillConfig(**kw))


def test_a_teacher_with_another_tokenizer_is_refused(tiny_teacher, corpus):
    other = CharTokenizer(["<unk>", "[MASK]", *"abcdefghij"])
    cfg = replace(TEACHER_CFG, vocab_size=other.vocab_size)
    foreign = Checkpoint(GPT(cfg).eval(), other, cfg, TrainConfig(), {}, "foreign")
    with pytest.raises(ValueError, match="tokenizer"):
        make(foreign, corpus).check()
    events = list(make(foreign, corpus).run())
    assert len(events) == 1 and isinstance(events[0], Failed) and "tokenizer" in events[0].message


def test_each_eval_reports_both_students_and_the_teacher(tiny_teacher, corpus):
    evals = [e for e in make(tiny_teacher, corpus, steps=3).run() if isinstance(e, Eval)]
    assert evals[0].step == 0 and evals[-1].step == 3
    assert evals[0].val_loss == pytest.approx(evals[0].metrics["scratch_val_loss"])  # the same start
    assert all(math.isfinite(e.metrics["teacher_val_loss"]) for e in evals)


def test_verdict_by_hand():
    d = [(0, 5.0, 0.0), (10, 2.0, 0.5), (20, 1.0, 0.96), (30, 0.9, 1.0)]
    s = [(0, 5.0, 0.0), (10, 3.0, 0.2), (20, 2.0, 0.5), (30, 1.5, 0.97)]
    v = race_verdict(d, s, 30, 100, 6.0, 2.0, teacher_training_flops=1e6)
    assert v["steps_to_match"] == 20 and v["steps_ratio"] == pytest.approx(20 / 30)
    assert v["coref_steps_ratio"] == pytest.approx(20 / 30) and not v["coref_ratio_is_bound"]
    assert v["flops_ratio"] == pytest.approx(20 * 8 / (30 * 6))
    assert v["flops_ratio_cached"] == pytest.approx(20 / 30)
    assert v["break_even_students"] == pytest.approx(1e6 / (30 * 100 * 6 - 20 * 100 * 6))
    never = race_verdict([(0, 5.0, 0.0), (30, 4.0, 0.1)], s, 30, 100, 6.0, 2.0)
    assert never["steps_ratio"] is None and never["flops_ratio"] is None
