"""Chinese that never renders as boxes: prefer an installed CJK font; when none is installed (a fresh container,
WSL, a bare Linux), load the subset bundled in resources/fonts/ (see scripts/subset_cjk_font.py)."""

from __future__ import annotations

from PySide6.QtGui import QFont, QFontDatabase

from core import resources

# Installed families, best first; any other family Qt says writes Simplified Chinese comes after these.
PREFERRED = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "SimHei",
)
BUNDLED = "LLMExplorerSansCJK-Regular.otf"


def installed_cjk_families() -> list[str]:
    """Families on this machine that cover Simplified Chinese, the preferred ones first."""
    chinese = QFontDatabase.families(QFontDatabase.WritingSystem.SimplifiedChinese)
    return [f for f in PREFERRED if f in chinese] + [f for f in chinese if f not in PREFERRED]


def load_bundled() -> list[str]:
    """Register the bundled subset with Qt (this process only); its family names, or [] if it is missing."""
    font_id = QFontDatabase.addApplicationFont(str(resources.fonts_dir() / BUNDLED))
    return list(QFontDatabase.applicationFontFamilies(font_id)) if font_id >= 0 else []


def install_cjk_font(app) -> list[str]:
    """Put a Chinese-capable family at the head of the application font's fallback chain; returns the chain
    added. The bundled font is loaded only when no installed font covers Chinese."""
    families = installed_cjk_families()[:3] or load_bundled()
    if families:
        font = QFont(app.font())
        font.setFamilies([*families, *(f for f in font.families() if f not in families)])
        app.setFont(font)
    return families
