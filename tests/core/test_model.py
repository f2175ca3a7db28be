"""The model keeps its promises: the causal mask hides the future and only the future, the masked
objective sees both sides, the fast and the explicit attention paths agree, attention weights are
distributions, it can learn, and absurd configurations are refused before anything is allocated."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from core.config import ConfigError, ModelConfig, TrainConfig, from_dict
from core.model.gpt import GPT
from core.model.tokenizer import train_tokenizer
from core.training.batches import causal_batch, compute_loss, masked_batch

VOCAB = 40
T = 12


def _ids(seed: int = 1, batch: int = 2, length: int = T) -> torch.Tensor:
    return torch.randint(2, VOCAB, (batch, length), generator=torch.Generator().manual_seed(seed))


def _change_token(x: torch.Tensor, pos: int) -> torch.Tensor:
    y = x.clone()
    y[:, pos] = 2 + (y[:, pos] - 2 + 7) % (VOCAB - 2)  # a different valid id
    assert (y[:, pos] != x[:, pos]).all()
    return y


@pytest.mark.parametrize("fast", [True, False])
def test_causal_a_future_token_never_changes_earlier_logits(make_model, fast):
    model = make_model(VOCAB, objective="causal").eval()
    model.set_fast_attention(fast)
    x = _ids()
    pos = 7
    with torch.no_grad():
        a = model(x).logits
        b = model(_change_token(x, pos)).logits
    assert torch.allclose(a[:, :pos], b[:, :pos], atol=1e-6)
    assert not torch.allclose(a[:, pos:], b[:, pos:], atol=1e-4)  # the change itself is seen from pos on


@pytest.mark.parametrize("fast", [True, False])
def test_masked_a_later_token_changes_earlier_positions(make_model, fast):
    model = make_model(VOCAB, objective="masked").eval()
    model.set_fast_attention(fast)
    x = _ids()
    pos = 9
    with torch.no_grad():
        a = model(x).logits
        b = model(_change_token(x, pos)).logits
    for earlier in (0, 4, pos - 1):
        assert (a[:, earlier] - b[:, earlier]).abs().max() > 1e-5, f"position {earlier} ignored token {pos}"


@pytest.mark.parametrize("objective", ["causal", "masked"])
def test_sdpa_and_explicit_attention_give_the_same_logits(make_model, objective):
    model = make_model(VOCAB, objective=objective).eval()
    x = _ids(seed=3, batch=3)
    with torch.no_grad():
        model.set_fast_attention(True)
        fast = model(x).logits
        model.set_fast_attention(False)
        explicit = model(x).logits
        weighted = model(x, need_attn=True).logits  # the path that also returns weights
    assert torch.allclose(fast, explicit, atol=1e-5)
    assert torch.allclose(fast, weighted, atol=1e-5)


def test_causal_attention_rows_are_distributions_over_the_past(make_model):
    model = make_model(VOCAB, objective="causal", n_layer=2).eval()
    with torch.no_grad():
        out = model(_ids(), need_attn=True)
    assert out.attentions is not None and len(out.attentions) == 2
    for att in out.attentions:
        assert att.shape == (2, model.cfg.n_head, T, T)
        assert torch.allclose(att.sum(-1), torch.ones(2, model.cfg.n_head, T), atol=1e-5)
        assert (att >= 0).all()
        assert torch.equal(att.triu(1), torch.zeros_like(att))  # nothing above the diagonal
        assert (att[..., 0, 0] == 1).all()  # the first token can only attend to itself


def test_masked_attention_looks_both_ways(make_model):
    model = make_model(VOCAB, objective="masked").eval()
    with torch.no_grad():
        att = model(_ids(), need_attn=True).attentions[0]
    assert torch.allclose(att.sum(-1), torch.ones_like(att.sum(-1)), atol=1e-5)
    assert (att.triu(1).sum(-1)[..., : T - 1] > 0).all()  # every row but the last weighs later tokens


def test_outputs_are_only_returned_when_asked(make_model):
    model = make_model(VOCAB).eval()
    with torch.no_grad():
        out = model(_ids())
    assert out.attentions is None and out.hidden_states is None
    assert out.logits.shape == (2, T, VOCAB)


def test_hidden_states_are_the_embeddings_and_each_blocks_output(make_model):
    model = make_model(VOCAB, n_layer=3).eval()
    x = _ids()
    with torch.no_grad():
        out = model(x, need_hidden=True)
        hidden = out.hidden_states
        assert hidden is not None and len(hidden) == 3 + 1
        for h in hidden:
            assert h.shape == (2, T, model.cfg.n_embd)
        expected_input = model.wte(x) + model.wpe(torch.arange(T))
        assert torch.allclose(hidden[0], expected_input)
        assert torch.allclose(model.lm_head(model.ln_f(hidden[-1])), out.logits, atol=1e-5)


def test_a_sequence_longer_than_the_context_is_refused(make_model):
    model = make_model(VOCAB)
    with pytest.raises(ValueError, match="longer than the context"):
        model(_ids(length=model.cfg.block_size + 1))


def test_embeddings_are_tied_to_the_output_layer(make_model):
    model = make_model(VOCAB)
    assert model.lm_head.weight is model.wte.weight


def _fit(model: GPT, batch, steps: int = 40, lr: float = 1e-2) -> tuple[float, float]:
    x, y = batch
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    first = compute_loss(model, x, y).item()
    for _ in range(steps):
        loss = compute_loss(model, x, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        return first, compute_loss(model, x, y).item()


TEXT = "猫坐在垫子上，它很舒服。它是猫。狗睡在沙发上，它很软。它是沙发。" * 20


def test_attention_dropout_acts_in_training_only():
    """The `default` preset trains with attention dropout; everything that reads a model (probes, the
    panels, evaluation) runs it in eval mode, where it is exactly the model without dropout."""
    from core.config import PRESETS

    assert PRESETS["default"].model.dropout > 0
    cfg = ModelConfig(vocab_size=VOCAB, n_layer=2, n_head=2, n_embd=16, block_size=T, dropout=0.5)
    torch.manual_seed(0)
    model = GPT(cfg)
    plain = GPT(replace(cfg, dropout=0.0))
    plain.load_state_dict(model.state_dict())
    x = _ids()
    model.eval()
    plain.eval()
    with torch.no_grad():
        assert torch.equal(model(x).logits, plain(x).logits)
        model.train()
        assert not torch.allclose(model(x).logits, model(x).logits)  # a new mask every pass


def test_attention_dropout_drops_a_heads_whole_output_for_a_token():
    """One draw per (sequence, head, position): a row of a head's output is kept whole, scaled by
    1 / (1 - p), or zeroed whole; about p of the rows are zeroed. Both attention paths draw the same
    masks, so a training step means the same thing with and without attention weights."""
    cfg = ModelConfig(vocab_size=VOCAB, n_layer=2, n_head=2, n_embd=16, block_size=T, dropout=0.25)
    torch.manual_seed(0)
    model = GPT(cfg).train()
    rows = model.blocks[0].attn._drop_head_rows(torch.ones(64, 2, T, 8))
    assert torch.allclose(rows.unique(), torch.tensor([0.0, 1 / 0.75]))
    assert torch.equal(rows, rows[..., :1].expand_as(rows))  # never part of a row
    assert 0.2 < (rows[..., 0] == 0).float().mean().item() < 0.3

    x = _ids()
    torch.manual_seed(5)
    fast = model(x).logits
    torch.manual_seed(5)
    explicit = model(x, need_attn=True).logits
    assert torch.allclose(fast, explicit, atol=1e-5)


def test_causal_loss_falls_on_a_fixed_batch(make_model):
    tok = train_tokenizer("char", TEXT)
    data = torch.tensor(tok.encode(TEXT))
    model = make_model(tok.vocab_size, objective="causal", block_size=16)
    batch = causal_batch(data, torch.arange(0, 160, 20), 16)
    first, last = _fit(model, batch)
    assert first > 0.8 * torch.log(torch.tensor(float(tok.vocab_size))).item()  # starts near chance
    assert last < 0.5 * first


def test_masked_loss_falls_on_a_fixed_batch(make_model):
    tok = train_tokenizer("char", TEXT)
    data = torch.tensor(tok.encode(TEXT))
    model = make_model(tok.vocab_size, objective="masked", block_size=16)
    gen = torch.Generator().manual_seed(0)
    x, y = masked_batch(data, torch.arange(0, 320, 10), 16, tok, gen)
    chosen = y != -100
    assert chosen.any() and (~chosen).any()
    assert torch.equal(y[chosen], data[torch.arange(0, 320, 10)[:, None] + torch.arange(16)][chosen])
    assert (x[chosen] == tok.mask_id).float().mean() > 0.5  # most chosen tokens are hidden
    first, last = _fit(model, (x, y))
    assert last < 0.5 * first


@pytest.mark.parametrize(
    "overrides",
    [
        {"n_layer": 10**6},
        {"n_layer": 0},
        {"n_layer": -1},
        {"n_head": -2},
        {"n_embd": 30, "n_head": 4},  # not divisible
        {"n_embd": 10**9},
        {"vocab_size": -5},
        {"vocab_size": 1},
        {"block_size": 10**7},
        {"dropout": -0.1},
        {"dropout": 2.0},
        {"n_layer": True},
        {"n_layer": 2.5},
        {"n_head": 2.0},
        {"block_size": 32.5},
        {"objective": "sideways"},
        {"vocab_size": 200_000, "n_embd": 4096},  # each field in range, the product is not
        {"n_layer": 48, "n_embd": 4096},
    ],
)
def test_absurd_model_configs_raise_config_error_before_allocating(overrides):
    t0 = time.perf_counter()
    with pytest.raises(ConfigError) as info:
        GPT(replace(ModelConfig(), **overrides))
    assert time.perf_counter() - t0 < 1.0
    assert "\n" not in str(info.value) and str(info.value)


def test_from_dict_rejects_wrong_types_and_bounds_values():
    assert from_dict(ModelConfig, {"n_layer": 3, "unknown": 1}) == ModelConfig(n_layer=3)
    assert from_dict(ModelConfig, {"dropout": 0}).dropout == 0.0  # an int where a float is expected is fine
    for bad in ({"n_layer": "3"}, {"n_layer": 3.0}, {"n_layer": None}, {"objective": 1}, {"n_embd": 10**9}):
        with pytest.raises(ConfigError):
            from_dict(ModelConfig, bad)
    with pytest.raises(ConfigError):
        from_dict(ModelConfig, ["not", "a", "dict"])


@settings(max_examples=60, deadline=None)
@given(n_layer=st.integers(), n_head=st.integers(min_value=-10, max_value=100))
def test_any_layer_and_head_count_is_either_valid_or_a_config_error(n_layer, n_head):
    cfg = ModelConfig(n_layer=n_layer, n_head=n_head, n_embd=64)
    ok = 1 <= n_layer <= 48 and 1 <= n_head <= 64 and 64 % n_head == 0
    if ok:
        assert cfg.validate() is cfg
    else:
        with pytest.raises(ConfigError):
            cfg.validate()


def test_train_config_wants_whole_numbers_and_a_bounded_seed():
    for bad in ({"steps": 10.5}, {"batch_size": 8.5}, {"seed": 10**30}, {"seed": -1}):
        with pytest.raises(ConfigError):
            replace(TrainConfig(), **bad).validate()
    assert replace(TrainConfig(), lr=1, seed=5).validate().seed == 5  # an int where a float goes is fine
