"""FLOPs, fleet time, cost, energy and memory against hand calculations and the article's sources."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import resources, units
from core.config import ModelConfig
from core.cost import factcheck as FC
from core.cost import flops as F


def test_gpt3_preset_flops_is_3_15e23():
    p = F.preset("gpt3")
    assert p.flops == pytest.approx(3.15e23, rel=0.01)
    assert units.format_sci(p.flops) == "3.14×10²³"


def test_one_a100_bf16_at_full_mfu_takes_31_9_years():
    p = F.preset("gpt3")
    e = F.estimate(p.n_params, p.n_tokens, F.make_fleet({"A100": 1}), mfu=1.0)
    assert e.years == pytest.approx(31.9, rel=0.01)
    assert units.format_duration(e.seconds, "zh") == "31.9 年"
    assert units.format_duration(e.seconds, "en") == "31.9 years"


def test_mixed_fleet_throughput_is_the_sum():
    a100, h800 = F.gpu("A100"), F.gpu("H800")
    fleet = F.make_fleet({"A100": 1024, "H800": 512})
    assert F.fleet_peak_flops(fleet) == pytest.approx(1024 * 312e12 + 512 * 989.5e12)
    assert F.fleet_peak_flops(fleet) == pytest.approx(
        F.fleet_peak_flops(F.make_fleet({"A100": 1024})) + F.fleet_peak_flops(F.make_fleet({"H800": 512}))
    )
    e = F.estimate(175e9, 300e9, fleet, mfu=0.5)
    assert e.seconds == pytest.approx(
        6 * 175e9 * 300e9 / (0.5 * (1024 * a100.peak_flops() + 512 * h800.peak_flops()))
    )
    assert set(e.gpu_hours_by_type) == {"A100", "H800"}
    assert e.cost_usd == pytest.approx(e.gpu_hours_by_type["A100"] * 2.5 + e.gpu_hours_by_type["H800"] * 2.0)


def test_deepseek_v3_on_2048_h800_at_2_usd_reproduces_the_report():
    p = F.preset("deepseek_v3")
    fleet = F.make_fleet({"H800": 2048}, price_all=2.0)
    mfu = F.implied_mfu(p.flops, fleet, p.reported_gpu_hours * 3600 / 2048)
    assert 0.3 < mfu < 0.4  # 33 % of the BF16 peak on a 6ND basis (DeepSeek's own 38.94 % counts attention)
    e = F.estimate(p.n_params, p.n_tokens, fleet, mfu, n_params_total=p.n_params_total)
    assert e.gpu_hours == pytest.approx(2.79e6, rel=0.02)
    assert e.cost_usd == pytest.approx(5.58e6, rel=0.02)
    assert e.days == pytest.approx(56.7, rel=0.01)
    assert FC.reported_run("deepseek_v3").cost_usd == pytest.approx(5.576e6, rel=0.001)


def test_no_gpus_gives_a_hint_not_inf_or_nan():
    e = F.estimate(175e9, 300e9, F.make_fleet({"A100": 0, "H800": 0}))
    assert e.hint == "no_gpus"
    assert e.seconds is None and e.days is None and e.cost_usd is None and e.fits is None
    assert all(v is None or math.isfinite(v) for v in (e.flops, e.peak_flops, e.memory_total_gb))


def test_1e30_parameters_stay_finite_and_readable():
    e = F.estimate(1e30, 20e30, F.make_fleet({"H100": 1000}))
    for v in (e.flops, e.seconds, e.days, e.gpu_hours, e.cost_usd, e.energy_kwh, e.memory_per_gpu_gb):
        assert math.isfinite(v)
    assert "×10" in units.format_sci(e.flops)
    assert "×10" in units.format_duration(e.seconds, "en")
    assert units.format_usd(e.cost_usd).startswith("$")


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf")])
def test_negative_or_non_finite_inputs_are_rejected(bad):
    with pytest.raises(ValueError):
        F.estimate(bad, 1e9, F.make_fleet({"A100": 1}))
    with pytest.raises(ValueError):
        F.make_fleet({"A100": -1})


def test_unknown_gpu_and_bad_mfu_are_rejected():
    with pytest.raises(ValueError):
        F.gpu("TPUv9")
    with pytest.raises(ValueError):
        F.estimate(1e9, 1e9, F.make_fleet({"A100": 1}), mfu=0)


def test_doubling_gpus_halves_days_and_keeps_gpu_hours():
    one = F.estimate(70e9, 1.4e12, F.make_fleet({"A100": 512}))
    two = F.estimate(70e9, 1.4e12, F.make_fleet({"A100": 1024}))
    assert two.days == pytest.approx(one.days / 2)
    assert two.gpu_hours == pytest.approx(one.gpu_hours)


def test_energy_is_board_power_times_hours_times_pue():
    e = F.estimate(1e9, 1e12, F.make_fleet({"H100": 8}), mfu=0.4, pue=1.2)
    assert e.energy_kwh == pytest.approx(e.gpu_hours * 0.7 * 1.2)


def test_precision_picks_the_peak_and_falls_back():
    h100, v100 = F.gpu("H100"), F.gpu("V100")
    assert h100.peak_flops("fp8") == pytest.approx(2 * h100.peak_flops("bf16"), rel=0.01)
    assert F.resolve_precision(F.gpu("A100"), "fp8") == ("bf16", 312e12)  # A100 has no FP8
    assert F.resolve_precision(v100, "bf16") == ("fp16", 125e12)  # V100: FP16 tensor cores only
    assert F.resolve_precision(v100, "tf32")[0] == "fp32"
    with pytest.raises(ValueError):
        F.resolve_precision(h100, "int4")


def test_memory_16_bytes_per_param_sharded_and_not():
    p = F.preset("gpt3")
    fleet = F.make_fleet({"A100": 64})
    sharded = F.estimate(p.n_params, p.n_tokens, fleet, seq_len=2048, n_layer=96, d_model=12288)
    act_gb = 34 * 2048 * 12288 * 96 / 1e9
    assert sharded.memory_total_gb == pytest.approx(16 * 174.6e9 / 1e9 + act_gb)
    assert sharded.memory_per_gpu_gb == pytest.approx(sharded.memory_total_gb / 64)
    assert sharded.fits and sharded.min_gpus == math.ceil(sharded.memory_total_gb / 80)
    full_copy = F.estimate(p.n_params, p.n_tokens, fleet, sharded=False)
    assert not full_copy.fits


def test_inverse_mode_tokens_for_a_budget_round_trips():
    fleet = F.make_fleet({"H800": 2048})
    d = F.tokens_for_budget(37e9, fleet, days=10, mfu=0.35)
    e = F.estimate(37e9, d, fleet, mfu=0.35)
    assert e.days == pytest.approx(10)


def test_inference_is_two_flops_per_parameter():
    assert F.inference_flops_per_token(7e9) == 14e9


def test_model_flops_per_token_matches_kaplan_by_hand():
    cfg = ModelConfig(vocab_size=100, n_layer=2, n_head=4, n_embd=64, block_size=32)
    n = 12 * 2 * 64 * 64
    assert F.n_params_non_embedding(cfg) == n
    lm_head = 64 * 100
    assert F.model_flops_per_token(cfg) == 6 * (n + lm_head) + 6 * 2 * 32 * 64  # causal: half the context
    assert F.model_flops_per_token(cfg, attention="full") == 6 * (n + lm_head) + 12 * 2 * 32 * 64


def test_model_flops_match_torch_flop_counter():
    """The analytic count against torch's FlopCounterMode on a real forward + backward. The explicit
    attention path is measured: FlopCounterMode has no formula for the CPU SDPA kernel and would count
    attention as zero. The counter multiplies the full T×T score matrix, so 'full' is like for like;
    the default (Kaplan, causal) counts half of that attention and must stay within 10 %."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from core.model.gpt import GPT

    for cfg in (ModelConfig(), ModelConfig(n_layer=3, n_head=4, n_embd=96, block_size=64, vocab_size=120)):
        torch.manual_seed(0)
        model = GPT(cfg)
        model.set_fast_attention(False)
        B, T = 2, cfg.block_size
        idx = torch.randint(0, cfg.vocab_size, (B, T))
        with FlopCounterMode(display=False) as counter:
            out = model(idx)
            logits = out[0] if isinstance(out, tuple) else out.logits
            logits.float().mean().backward()
        measured = counter.get_total_flops() / (B * T)
        assert measured == pytest.approx(F.model_flops_per_token(cfg, attention="full"), rel=0.02)
        assert measured == pytest.approx(F.model_flops_per_token(cfg), rel=0.10)


@given(st.floats(0, 1e30), st.floats(0, 1e30), st.integers(0, 100_000), st.floats(0.01, 1.0))
def test_estimate_never_returns_inf_or_nan(n, d, gpus, mfu):
    e = F.estimate(n, d, F.make_fleet({"H100": gpus}), mfu=mfu)
    for v in (e.flops, e.seconds, e.days, e.gpu_hours, e.cost_usd, e.energy_kwh, e.memory_per_gpu_gb):
        assert v is None or math.isfinite(v)
    assert (e.seconds is None) == (gpus == 0)


@pytest.mark.parametrize(
    "x, text",
    [(3.14e23, "3.14×10²³"), (1024, "1,024"), (0, "0"), (2.5e-5, "2.5×10⁻⁵"), (9.999e22, "1×10²³")],
)
def test_format_sci(x, text):
    assert units.format_sci(x) == text


def test_format_money_and_energy():
    assert units.format_usd(4.6e6) == "$4.6 M"
    assert units.format_usd(5.576e6) == "$5.58 M"
    assert units.format_usd(1.2e9) == "$1.2 B"
    assert units.format_usd(None) == "—"
    assert units.format_energy(2.34e6) == "2.34 GWh"


# ---------------------------------------------------------------- fact check

EXPECTED_VERDICTS = {
    "gpt3_params": "correct",
    "gpt3_flops": "correct",
    "a100_355_years": "misattributed",  # a V100 at an assumed 28 TFLOP/s
    "a100_3640_month": "misattributed",  # petaflop/s-days, not GPUs
    "gpt3_500b_words": "misattributed",  # tokens, not words
    "gpt3_10t_predictions": "unsupported",
    "gpt4_10x": "rumoured",
    "gpt4_cost": "rumoured",
    "h800_cut_down": "correct",
    "h800_60_77": "unsupported",
    "deepseek_cost": "correct",
    "distill_saves": "correct",  # from the recorded race: cached teacher, 0.6x the FLOPs (2.1x live)
    "deepseek_from_chatgpt": "rumoured",
}


def test_every_article_claim_gets_the_sourced_verdict():
    checks = {c.id: c for c in FC.check_claims()}
    assert {k: c.verdict for k, c in checks.items()} == EXPECTED_VERDICTS
    assert checks["a100_355_years"].computed == pytest.approx(31.9, rel=0.01)
    assert checks["a100_355_years"].alternative.value == pytest.approx(355, rel=0.01)
    assert checks["a100_3640_month"].computed == pytest.approx(388, rel=0.01)
    assert checks["a100_3640_month"].alternative.value == pytest.approx(3640, rel=0.01)
    assert checks["h800_60_77"].computed == 1.0
    assert checks["deepseek_cost"].computed == pytest.approx(5.576e6, rel=0.001)
    for c in checks.values():
        assert c.verdict in FC.VERDICTS and c.sources and all(s.title for s in c.sources)


def test_the_distillation_claim_follows_the_race_it_is_given():
    recorded = {c.id: c for c in FC.check_claims()}["distill_saves"]
    assert recorded.computed == pytest.approx(FC.recorded_race()["flops_ratio_cached"])
    extras = {e.label_en: e.value for e in recorded.extras}
    assert extras["DistilBERT: share of BERT's GLUE score kept"] == 0.97
    live_only = {"flops_ratio_cached": None, "flops_ratio": 2.4, "steps_ratio": 0.7}  # never matched cached
    check = {c.id: c for c in FC.check_claims(race=live_only)}["distill_saves"]
    assert check.verdict == "unsupported"
    assert {c.id: c for c in FC.check_claims(race={"flops_ratio_cached": 0.5})}[
        "distill_saves"
    ].verdict == "correct"
    assert {c.id: c for c in FC.check_claims(race={"flops_ratio_cached": 1.2})}["distill_saves"].verdict == (
        "unsupported"
    )


def test_claims_data_holds_no_computed_figures():

    raw = resources.read_json("claims.json")
    for c in raw["claims"]:
        assert "computed" not in c and "verdict" not in c
        assert c["compute"]["fn"] in FC.COMPUTE


@pytest.mark.parametrize(
    "rule, claimed, computed, alt, verdict",
    [
        ("match", 100, 101, None, "correct"),
        ("match", 100, 150, None, "unsupported"),
        ("misattributed", 355, 31.9, 355.4, "misattributed"),
        ("misattributed", 355, 354, 10, "correct"),
        ("misattributed", 355, 31.9, 10, "unsupported"),
        ("range", (0.6, 0.77), 1.0, None, "unsupported"),
        ("range", (0.6, 0.77), 0.7, None, "correct"),
        ("rumoured", 10, 10, None, "rumoured"),
    ],
)
def test_verdict_rules(rule, claimed, computed, alt, verdict):
    assert FC.verdict(rule, claimed, computed, alt) == verdict


def test_core_flops_does_not_import_qt():
    import subprocess
    import sys

    code = (
        "import sys, core.cost.flops, core.cost.factcheck, core.cli.cost;"
        "print('PySide6' in sys.modules or 'pyqtgraph' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
