"""Build resources/fonts/LLMExplorerSansCJK-Regular.otf: Noto Sans CJK SC cut down to the characters the app
can show, so Chinese renders on a machine with no CJK font installed (a fresh container, WSL, a bare Linux).

    python3 -m pip install fonttools   # only this script needs it; the app never imports it
    python3 scripts/subset_cjk_font.py [--source /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc]

The source is Debian's `fonts-noto-cjk` (SIL Open Font License 1.1). Kept: all of GB2312 (its 6,763 hanzi and
682 symbols), ASCII, full-width forms and CJK punctuation, and every character in the app's own text — gui/,
core/ (world corpus and CLI messages), resources/data/*.json and the article's sentences. The family is renamed,
as the OFL asks of a modified font, so it never shadows a full installed Noto Sans CJK."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "resources" / "fonts" / "LLMExplorerSansCJK-Regular.otf"
FAMILY = "LLM Explorer Sans CJK"
SOURCE = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
LIMIT_BYTES = 5 * 1024 * 1024


def gb2312() -> set[str]:
    """Every character GB2312 encodes: rows 0xA1-0xF7, cells 0xA1-0xFE (undefined cells fail to decode)."""
    chars = set()
    for row in range(0xA1, 0xF8):
        for cell in range(0xA1, 0xFF):
            try:
                chars.add(bytes([row, cell]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return chars


def app_text() -> str:
    """The app's own strings: every source and data file that holds text the window or the CLI shows."""
    files = [*ROOT.glob("gui/**/*.py"), *ROOT.glob("core/**/*.py"), *ROOT.glob("resources/data/*.json")]
    article = ROOT.parent / "shared" / "ARTICLE.md"
    if article.is_file():
        files.append(article)
    return "".join(path.read_text(encoding="utf-8") for path in files)


def wanted() -> set[str]:
    chars = gb2312() | set(app_text())
    chars |= {chr(c) for c in range(0x20, 0x7F)}  # ASCII
    chars |= {chr(c) for c in range(0x3000, 0x3040)}  # CJK symbols and punctuation
    chars |= {chr(c) for c in range(0xFF01, 0xFF5F)}  # full-width forms
    chars |= {chr(c) for c in range(0x2010, 0x2070)}  # dashes, quotes, ellipsis, per-mille
    return {c for c in chars if c.isprintable() or c == "\u3000"}


def load_sc(source: str) -> TTFont:
    if source.endswith(".ttc"):
        for font in TTCollection(source).fonts:
            if font["name"].getDebugName(1) == "Noto Sans CJK SC":
                return font
        raise SystemExit(f"no 'Noto Sans CJK SC' face in {source}")
    return TTFont(source)


def rename(font: TTFont) -> None:
    names = font["name"]
    for record in list(names.names):
        if record.nameID in (1, 3, 4, 6, 16, 17, 18, 21, 22):
            names.removeNames(nameID=record.nameID)
    postscript = FAMILY.replace(" ", "") + "-Regular"
    for name_id, text in ((1, FAMILY), (2, "Regular"), (3, postscript), (4, FAMILY), (6, postscript)):
        names.setName(text, name_id, 3, 1, 0x409)
    if "CFF " in font:
        cff = font["CFF "].cff
        cff.fontNames = [postscript]
        top = cff.topDictIndex[0]
        top.FullName, top.FamilyName = FAMILY, FAMILY


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=SOURCE, help="Noto Sans CJK (.ttc collection or the SC .otf)")
    args = parser.parse_args(argv)
    font = load_sc(args.source)
    chars = wanted()
    cmap = font.getBestCmap()
    missing = sorted(c for c in chars if ord(c) not in cmap and not c.isspace())
    options = subset.Options()
    options.layout_features = ["*"]  # vertical forms and locl keep punctuation placed the Chinese way
    options.name_IDs = ["*"]
    options.hinting = False  # CFF hints barely matter at screen sizes and cost ~10 %
    options.desubroutinize = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in chars])
    subsetter.subset(font)
    rename(font)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    font.save(OUT)
    size = OUT.stat().st_size
    hanzi = sum(1 for c in chars if 0x4E00 <= ord(c) <= 0x9FFF and ord(c) in cmap)
    print(f"{OUT.relative_to(ROOT)}: {size / 1e6:.2f} MB, {len(chars)} characters ({hanzi} hanzi)")
    if missing:
        print(f"not in the source font ({len(missing)}): {''.join(missing[:80])}")
    if size > LIMIT_BYTES:
        print(f"larger than {LIMIT_BYTES} bytes", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
