"""A user's own text file as the corpus: read strictly (UTF-8, not binary, bounded size), refused with one
line that names the problem."""

from __future__ import annotations

import os

from core.data.corpus import Corpus, CorpusError

MAX_FILE_BYTES = 50 * 1024 * 1024


def file_corpus(path: str | os.PathLike, min_chars: int = 64) -> Corpus:
    """A user's UTF-8 text file as the corpus; the last 10 % becomes validation text."""
    name = os.fspath(path)
    shown = name.replace("\n", "\\n").replace("\r", "\\r")
    try:
        size = os.stat(name).st_size
    except FileNotFoundError:
        raise CorpusError(f"File not found: {shown}") from None
    except OSError as e:
        raise CorpusError(f"Cannot open {shown}: {e.strerror or e}") from None
    if os.path.isdir(name):
        raise CorpusError(f"{shown} is a folder, not a text file.")
    if not os.path.isfile(name):  # a FIFO would block the read forever, /dev/zero never ends
        raise CorpusError(f"{shown} is a device or pipe, not a text file.")
    if size > MAX_FILE_BYTES:
        raise CorpusError(f"{shown} is {size / 2**20:.1f} MB; the limit is {MAX_FILE_BYTES // 2**20} MB.")
    try:
        with open(name, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise CorpusError(f"Cannot read {shown}: {e.strerror or e}") from None
    if not data:
        raise CorpusError(f"{shown} is empty.")
    if len(data) > MAX_FILE_BYTES:
        raise CorpusError(f"{shown} is larger than {MAX_FILE_BYTES // 2**20} MB.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_utf16(data):
        raise CorpusError(f"{shown} is UTF-16 text; save it as UTF-8 (e.g. in a text editor's Save As).")
    nul = data.find(b"\0")
    if nul >= 0:
        raise CorpusError(f"{shown} looks like a binary file (NUL byte at offset {nul}), not text.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CorpusError(f"{shown} is not valid UTF-8 (bad byte at offset {e.start}).") from None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    n = len(text.strip())
    if n < min_chars:
        raise CorpusError(f"{shown} has only {n} characters of text; at least {min_chars} are needed.")
    cut = _split_point(text)
    return Corpus(
        lang=_guess_lang(text),
        source=name,
        train_text=text[:cut],
        val_text=text[cut:],
        probes=(),
        categories={},
        cloze_checks=(),
        showcase=None,
        showcase_inanimate=None,
    )


def _looks_utf16(data: bytes) -> bool:
    """UTF-16 without a byte-order mark: in Latin or CJK text one byte of each pair is mostly NUL or shared."""
    sample = data[:4096]
    if len(sample) < 16:
        return False
    evens, odds = sample[0::2], sample[1::2]
    return max(evens.count(0), odds.count(0)) > 0.3 * len(odds) and min(evens.count(0), odds.count(0)) == 0


def _split_point(text: str) -> int:
    """Cut at 90 %, moved to the next line break when one is near, so val starts on a fresh line."""
    cut = int(len(text) * 0.9)
    nl = text.find("\n", cut, cut + max(1, len(text) // 50))
    return nl + 1 if 0 <= nl < len(text) - 1 else cut


def _guess_lang(text: str) -> str:
    """Chinese when CJK ideographs are at least a fifth of the non-space characters."""
    sample = text[:200_000]
    letters = sum(1 for c in sample if not c.isspace())
    cjk = sum(1 for c in sample if "\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf")
    return "zh" if letters and cjk / letters >= 0.2 else "en"
