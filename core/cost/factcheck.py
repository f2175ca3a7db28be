"""The article's numeric claims, each recomputed with core.cost.flops from sourced inputs and given a verdict.

resources/data/claims.json holds the claim, its inputs, the rule and the sources — never the computed
figure — so a change in the data or in the maths shows up here, not in a hand-typed table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from core import resources, units
from core.cost import flops as F

VERDICTS = ("correct", "misattributed", "unsupported", "rumoured")


@dataclass(frozen=True)
class Source:
    key: str
    title: str
    url: str | None
    status: str


@dataclass(frozen=True)
class Figure:
    label_zh: str
    label_en: str
    value: float
    unit: str


@dataclass(frozen=True)
class ClaimCheck:
    id: str
    claim_zh: str
    claim_en: str
    claimed: float | tuple[float, float]
    unit: str
    computed: float
    alternative: Figure | None  # the figure the claim really comes from, when misattributed
    extras: tuple[Figure, ...]  # context: other MFUs, ratios, hypotheses
    verdict: str
    rule: str
    sources: tuple[Source, ...]
    explain_zh: str
    explain_en: str

    def claimed_text(self, lang: str = "zh") -> str:
        """The claim's figure as the article puts it ("< 100%" for a qualitative "cut-down")."""
        if self.rule == "below":
            return "< " + format_value(self.claimed, self.unit, lang)
        return format_value(self.claimed, self.unit, lang)

    def as_dict(self) -> dict:
        from dataclasses import asdict

        d = asdict(self)
        d["claimed"] = list(self.claimed) if isinstance(self.claimed, tuple) else self.claimed
        return d


# ---------------------------------------------------------------- computations the data may name


def _preset_field(preset: str, field: str) -> float:
    return float(getattr(F.preset(preset), field))


def _preset_flops(preset: str) -> float:
    p = F.preset(preset)
    return F.training_flops(p.n_params, p.n_tokens)


def _single_gpu_years(preset: str, gpu: str, mfu: float, tflops: float | None = None) -> float:
    """Years for one card; `tflops` replaces the datasheet peak when a source assumed another (Lambda: 28)."""
    peak = tflops * 1e12 if tflops is not None else F.gpu(gpu).peak_flops("bf16")
    return _preset_flops(preset) / (peak * mfu) / F.SECONDS_PER_YEAR


def _gpus_for_days(preset: str, gpu: str, days: float, mfu: float) -> float:
    return F.gpus_for_days(_preset_flops(preset), F.gpu(gpu), days, mfu)


def _pf_days(preset: str) -> float:
    return _preset_flops(preset) / F.PF_DAY


def _scaled_sum(values: list[float], factor: float) -> float:
    return factor * sum(values)


def _preset_ratio(a: str, b: str, field: str) -> float:
    va, vb = getattr(F.preset(a), field), getattr(F.preset(b), field)
    return float(va) / float(vb)


def _gpu_ratio(a: str, b: str, field: str) -> float:
    raw = {g["id"]: g for g in resources.read_json("gpus.json")["gpus"]}
    return float(raw[F.gpu(a).id][field]) / float(raw[F.gpu(b).id][field])


def reported_run(preset: str) -> F.Estimate:
    """A published run re-run through the calculator: its fleet and price, at the MFU its GPU-hours imply."""
    p = F.preset(preset)
    if not (p.gpu and p.n_gpus and p.reported_gpu_hours):
        raise ValueError(f"preset {preset!r} has no reported fleet and GPU-hours")
    fleet = F.make_fleet({p.gpu: p.n_gpus}, price_all=p.price_usd_per_hour)
    seconds = p.reported_gpu_hours * 3600.0 / p.n_gpus
    mfu = F.implied_mfu(p.flops, fleet, seconds)
    return F.estimate(
        p.n_params,
        p.n_tokens,
        fleet,
        mfu,
        n_params_total=p.n_params_total,
        seq_len=p.seq_len,
        n_layer=p.n_layer,
        d_model=p.d_model,
    )


def recorded_race() -> dict:
    """The verdict of the distillation race recorded with the app (resources/models/race; built by
    scripts/build_models.py). Read from the checkout's resources, so $LLM_EXPLORER_MODELS cannot hide it."""
    from core.runlog import read_run_folder

    end = read_run_folder(str(resources.root() / "models" / "race")).end
    return dict(end.metrics) if end is not None else {}


def _race(key: str, race: dict | None = None) -> float:
    """A figure of a distillation race's verdict (None, e.g. never matched, becomes NaN: no figure)."""
    value = (race if race is not None else recorded_race()).get(key)
    return float("nan") if value is None else float(value)


COMPUTE: dict[str, Callable[..., float]] = {
    "value": lambda value: float(value),  # a sourced figure, shown beside the measured ones
    "race": _race,
    "preset_field": _preset_field,
    "preset_flops": _preset_flops,
    "single_gpu_years": _single_gpu_years,
    "gpus_for_days": _gpus_for_days,
    "pf_days": _pf_days,
    "scaled_sum": _scaled_sum,
    "preset_ratio": _preset_ratio,
    "gpu_ratio": _gpu_ratio,
    "preset_cost": lambda preset: reported_run(preset).cost_usd,
    "preset_gpu_hours": lambda preset: reported_run(preset).gpu_hours,
    "preset_implied_mfu": lambda preset: reported_run(preset).mfu,
    "preset_days": lambda preset: reported_run(preset).days,
}


def _run(spec: dict, race: dict | None = None) -> float:
    args = dict(spec.get("args", {}))
    if spec["fn"] == "race":
        args["race"] = race
    return float(COMPUTE[spec["fn"]](**args))


# ---------------------------------------------------------------- verdicts


def _close(a: float, b: float, tol: float) -> bool:
    return b != 0 and abs(a / b - 1.0) <= tol


def verdict(
    rule: str,
    claimed,
    computed: float,
    alternative: float | None = None,
    *,
    tolerance: float = 0.02,
    threshold: float = 1.0,
) -> str:
    """Apply one of the rules in claims.json's meta (kept here so a test can check each by hand)."""
    if rule == "rumoured":
        return "rumoured"
    if rule == "match":
        return "correct" if _close(computed, claimed, tolerance) else "unsupported"
    if rule == "misattributed":
        if _close(computed, claimed, tolerance):
            return "correct"
        if alternative is not None and _close(alternative, claimed, tolerance):
            return "misattributed"
        return "unsupported"
    if rule == "range":
        lo, hi = claimed
        return "correct" if lo <= computed <= hi else "unsupported"
    if rule == "below":  # NaN (no figure: e.g. a race that never matched) is not below anything
        return "correct" if computed < threshold else "unsupported"
    raise ValueError(f"unknown verdict rule {rule!r}")


@lru_cache(maxsize=1)
def _data() -> dict:
    return resources.read_json("claims.json")


def sources() -> dict[str, Source]:
    return {k: Source(k, v["title"], v.get("url"), v["status"]) for k, v in _data()["sources"].items()}


def check_claims(race: dict | None = None) -> tuple[ClaimCheck, ...]:
    """Every claim, in the article's order, with computed figure and verdict. `race`: the verdict of a
    distillation race just run (Done.metrics); by default the recorded one."""
    srcs = sources()
    out = []
    for c in _data()["claims"]:
        claimed = tuple(c["claimed"]) if isinstance(c["claimed"], list) else float(c["claimed"])
        computed = _run(c["compute"], race)
        alt = None
        if "alternative" in c:
            a = c["alternative"]
            alt = Figure(a["label_zh"], a["label_en"], _run(a), a.get("unit", c["unit"]))
        extras = tuple(
            Figure(e["label_zh"], e["label_en"], _run(e, race), e.get("unit", c["unit"]))
            for e in c.get("extras", ())
        )
        v = verdict(
            c["rule"],
            claimed,
            computed,
            alt.value if alt else None,
            tolerance=c.get("tolerance", 0.02),
            threshold=c.get("threshold", 1.0),
        )
        out.append(
            ClaimCheck(
                c["id"],
                c["claim_zh"],
                c["claim_en"],
                claimed,
                c["unit"],
                computed,
                alt,
                extras,
                v,
                c["rule"],
                tuple(srcs[k] for k in c["sources"]),
                c["explain_zh"],
                c["explain_en"],
            )
        )
    return tuple(out)


def format_value(value: float | tuple[float, float], unit: str, lang: str = "zh") -> str:
    """A figure in its unit, for people: 3.14×10²³ FLOPs, 31.9 年, 388 张, 100%, $5.58 M."""
    if isinstance(value, tuple):
        return " – ".join(format_value(v, unit, lang) for v in value)
    zh = lang == "zh"
    if unit == "usd":
        return units.format_usd(value)
    if unit == "ratio":
        return f"{units.format_sci(value * 100)}%"
    if unit == "times":
        return f"{units.format_sci(value)}×"
    if unit == "years":
        return units.format_duration(value * F.SECONDS_PER_YEAR, lang)
    if unit == "days":
        return f"{units.format_sci(value)} {'天' if zh else 'days'}"
    names = {
        "flops": ("FLOPs", "FLOPs"),
        "params": ("参数", "parameters"),
        "gpus": ("张 GPU", "GPUs"),
        "tokens": ("token", "tokens"),
        "words": ("词", "words"),
        "gpu_hours": ("GPU 小时", "GPU-hours"),
        "pf_days": ("PF/s-天", "petaflop/s-days"),
        "students": ("个学生", "students"),
        "samples": ("条样本", "samples"),
        "reports": ("处", "mention(s)"),
    }
    zh_name, en_name = names.get(unit, ("", unit))
    return f"{units.format_sci(value)} {zh_name if zh else en_name}".strip()
