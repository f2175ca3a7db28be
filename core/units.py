"""Numbers as a learner reads them, in one place for the CLI and every panel: 3.15×10²³, 1.23 M,
3 min 20 s, 31.9 年, $4.6 M, 1.3 GWh."""

from __future__ import annotations

import math

SECONDS_PER_DAY = 86_400.0
SECONDS_PER_YEAR = 365.25 * SECONDS_PER_DAY  # 3.156e7 s, as in the reference's GPT-3 table
_SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def si(value: float, digits: int = 3) -> str:
    """1234567 → '1.23 M': readable magnitudes without scientific notation for learners."""
    if value is None or not math.isfinite(value):
        return "—"
    for factor, suffix in ((1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.{digits}g} {suffix}"
    return f"{value:.{digits}g}"


def format_sci(x: float, digits: int = 3) -> str:
    """3.15×10²³ — plain digits below 10⁶ (1,024), so small numbers stay easy to read."""
    if x is None or not math.isfinite(x):
        return "—"
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e6:
        return _trim(f"{x:,.{max(0, digits - 1 - int(math.floor(math.log10(abs(x)))))}f}")
    exp = int(math.floor(math.log10(abs(x))))
    mant = x / 10.0**exp
    if round(mant, digits - 1) >= 10:
        mant, exp = mant / 10, exp + 1
    return f"{_trim(f'{mant:.{digits - 1}f}')}×10{str(exp).translate(_SUP)}"


def _trim(s: str) -> str:
    """4.60 → 4.6, 2.00 → 2: trailing zeros only look precise."""
    return s.rstrip("0").rstrip(".") if "." in s else s


def format_duration(seconds: float | None, lang: str = "zh") -> str:
    """Under an hour as a clock reads it (850 ms, 45 s, 3 min 20 s); longer in the largest unit that keeps
    the number ≥ 1: 3.5 小时 / hours, 54.2 天 / days, 31.9 年 / years (GPT-3 on one GPU)."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "—"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3g} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    units = ((SECONDS_PER_YEAR, "年", "years"), (SECONDS_PER_DAY, "天", "days"), (3600.0, "小时", "hours"))
    size, zh, en = next(u for u in units if seconds >= u[0])
    return f"{format_sci(seconds / size)} {zh if lang == 'zh' else en}"


def format_usd(x: float | None) -> str:
    """$4.6 M, $5.58 M, $1.2 B; scientific beyond a trillion."""
    if x is None or not math.isfinite(x):
        return "—"
    for size, suffix in ((1e12, None), (1e9, " B"), (1e6, " M"), (1e3, " k")):
        if abs(x) >= size:
            if suffix is None:
                return f"${format_sci(x)}"
            return f"${format_sci(x / size)}{suffix}"
    return f"${x:,.2f}"


def format_energy(kwh: float | None) -> str:
    """kWh → the unit a person knows: kWh, MWh, GWh, TWh."""
    if kwh is None or not math.isfinite(kwh):
        return "—"
    for size, unit in ((1e9, "TWh"), (1e6, "GWh"), (1e3, "MWh")):
        if kwh >= size:
            return f"{format_sci(kwh / size)} {unit}"
    return f"{format_sci(kwh)} kWh"


def format_bytes_gb(gb: float | None) -> str:
    if gb is None or not math.isfinite(gb):
        return "—"
    return f"{format_sci(gb / 1000)} TB" if gb >= 1000 else f"{format_sci(gb)} GB"
