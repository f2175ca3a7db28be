"""Tokenizers: one token per character (the default for Chinese), one per word (the English world), or
byte-level BPE (HF `tokenizers`; a user's own English text).

Both reserve ids 0 and 1 for <unk> and [MASK], so the model, the cloze game and checkpoints can rely on
them whatever the kind. Both save to plain JSON (`to_dict`) and load back with validation.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from itertools import accumulate

import numpy as np

UNK, MASK = "<unk>", "[MASK]"
SPECIALS = (UNK, MASK)
KINDS = ("char", "word", "bpe")
FORMAT_VERSION = 1
MIN_BPE_VOCAB = 256 + len(SPECIALS)  # every byte must stay a token, or some text could not be encoded
MAX_VOCAB = 100_000


class TokenizerError(ValueError):
    """A tokenizer that cannot be built or loaded, or ids it cannot decode; one line naming why."""


class Tokenizer(ABC):
    """What the trainer, probes and GUI use, whatever the kind."""

    kind: str
    unk_id: int = 0
    mask_id: int = 1

    @property
    @abstractmethod
    def vocab_size(self) -> int: ...

    @abstractmethod
    def encode(self, text: str) -> list[int]: ...

    @abstractmethod
    def decode(self, ids: Sequence[int]) -> str: ...

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        """`encode` of each text (BPE runs them without holding the GIL: a worker counting a large text
        leaves the GUI thread free)."""
        return [self.encode(t) for t in texts]

    @abstractmethod
    def encode_with_offsets(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        """Ids and, per token, the (start, end) character span of `text` it covers."""

    @abstractmethod
    def display_tokens(self, text: str) -> list[str]:
        """One printable string per token of `encode(text)`, made of whole characters only."""

    @abstractmethod
    def unknown_chars(self, text: str) -> list[str]:
        """Distinct characters of `text` that become <unk>, in order of first appearance."""

    @abstractmethod
    def id_of(self, token: str) -> int | None:
        """The id of `token` (its text, e.g. "猫" or " cat") when it is exactly one token, else None."""

    @abstractmethod
    def to_dict(self) -> dict: ...

    def _check_ids(self, ids: Sequence[int]) -> None:
        for i in ids:
            if isinstance(i, bool) or not 0 <= int(i) < self.vocab_size:
                raise TokenizerError(f"token id {i!r} is outside the vocabulary (0..{self.vocab_size - 1})")


def _checked_vocab(vocab: Sequence[str], kind: str, valid, items: str, item: str) -> list[str]:
    """A vocabulary read from a file, checked the same way for every kind that lists its tokens: the
    specials first, then distinct valid items, no more than MAX_VOCAB."""
    vocab = list(vocab)
    if tuple(vocab[:2]) != SPECIALS:
        raise TokenizerError(f"a {kind} vocabulary must start with {UNK} and {MASK}")
    if not all(isinstance(v, str) and valid(v) for v in vocab[2:]):
        raise TokenizerError(f"a {kind} vocabulary may hold only {items} after the specials")
    if len(set(vocab)) != len(vocab):
        raise TokenizerError(f"a {kind} vocabulary lists a {item} twice")
    if len(vocab) > MAX_VOCAB:
        raise TokenizerError(f"a {kind} vocabulary of {len(vocab)} entries is over the {MAX_VOCAB} limit")
    return vocab


class _ListedTokenizer(Tokenizer):
    """What the char and word tokenizers share: a vocabulary listed token by token, the specials first."""

    def __init__(self, vocab: list[str]):
        self._itos = vocab
        self._stoi = {t: i for i, t in enumerate(vocab) if i >= len(SPECIALS)}

    @property
    def vocab_size(self) -> int:
        return len(self._itos)

    def decode(self, ids: Sequence[int]) -> str:
        self._check_ids(ids)
        return "".join(self._itos[int(i)] for i in ids)

    def id_of(self, token: str) -> int | None:
        if token in SPECIALS:
            return SPECIALS.index(token)
        return self._stoi.get(token)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "version": FORMAT_VERSION, "vocab": list(self._itos)}


class CharTokenizer(_ListedTokenizer):
    """One token per character: every id is a character a learner can read; unseen ones become <unk>."""

    kind = "char"

    def __init__(self, vocab: Sequence[str]):
        super().__init__(_checked_vocab(vocab, "char", lambda c: len(c) == 1, "single characters", "character"))
        # id by code point, for encode_array; the last entry (0, <unk>) stands for every higher code point
        self._by_code = np.zeros(max(map(ord, self._stoi), default=0) + 2, dtype=np.int32)
        self._by_code[[ord(c) for c in self._stoi]] = list(self._stoi.values())

    def encode(self, text: str) -> list[int]:
        get = self._stoi.get
        return [get(c, 0) for c in text]

    def encode_array(self, text: str) -> np.ndarray:
        """encode() as an int64 array, in a few vectorised passes. A run encodes 400,000 characters; the
        per-character loop and the list's copy into a tensor held the GIL for ~200 ms, and a window training
        beside it froze."""
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        return self._by_code[np.minimum(codes, len(self._by_code) - 1)].astype(np.int64)

    def encode_with_offsets(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        return self.encode(text), [(i, i + 1) for i in range(len(text))]

    def display_tokens(self, text: str) -> list[str]:
        """The character itself, or "<unk>" where the model sees only the unknown token."""
        return [c if c in self._stoi else UNK for c in text]

    def unknown_chars(self, text: str) -> list[str]:
        return list(dict.fromkeys(c for c in text if c not in self._stoi))


# A word with the space before it (" cat"), one punctuation mark with its space, or one whitespace
# character: every character of any text falls in exactly one piece, so the pieces join back to the text.
WORD_PIECE = re.compile(r" ?\w+| ?[^\w\s]|\s")


class WordTokenizer(_ListedTokenizer):
    """One token per word piece of the text it was built from (" cat", "the", ",", "\n"): the English
    world has ~110 of them, so the model reads it as the Chinese one reads characters — one token per
    word, a small vocabulary (BPE's 600 pieces cost a 600-way softmax for ~110 words in use). A piece
    it never saw becomes <unk>, and `unknown_chars` reports those words; a user's own text gets BPE."""

    kind = "word"

    def __init__(self, vocab: Sequence[str]):
        super().__init__(_checked_vocab(vocab, "word", WORD_PIECE.fullmatch, "word pieces", "piece"))

    def _pieces(self, text: str) -> list[re.Match]:
        return list(WORD_PIECE.finditer(text))

    def encode(self, text: str) -> list[int]:
        get = self._stoi.get
        return [get(piece, 0) for piece in WORD_PIECE.findall(text)]

    def encode_with_offsets(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        pieces = self._pieces(text)
        return [self._stoi.get(m.group(), 0) for m in pieces], [m.span() for m in pieces]

    def display_tokens(self, text: str) -> list[str]:
        """The piece itself, or "<unk>" where the model sees only the unknown token."""
        return [piece if piece in self._stoi else UNK for piece in WORD_PIECE.findall(text)]

    def unknown_chars(self, text: str) -> list[str]:
        """The distinct words (and marks) of `text` this vocabulary lacks, without their leading space."""
        return list(dict.fromkeys(p.strip() or p for p in WORD_PIECE.findall(text) if p not in self._stoi))


def _bytes_to_unicode() -> dict[int, str]:
    """The byte-level alphabet (as in GPT-2): printable bytes stand for themselves, the rest are moved
    to code points from 256 up, so every byte has a visible, non-space character in the vocabulary."""
    kept = [*range(0x21, 0x7F), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    table = {b: chr(b) for b in kept}
    extra = (b for b in range(256) if b not in table)
    table |= {b: chr(256 + n) for n, b in enumerate(extra)}
    return table


BYTE_TO_CHAR = _bytes_to_unicode()
CHAR_TO_BYTE = {c: b for b, c in BYTE_TO_CHAR.items()}


class BpeTokenizer(Tokenizer):
    """Byte-level BPE: any Unicode text round-trips (no <unk>), frequent words become single tokens.

    A token may hold only part of a character's UTF-8 bytes (a rare Chinese character, an emoji).
    `display_tokens` shows each character on the token holding its *last* byte; a token holding only
    leading bytes shows "" (an empty chip: "this continues in the next token"). `encode_with_offsets`
    gives each token the span of every character it touches, so split characters overlap.
    """

    kind = "bpe"

    def __init__(self, hf):
        from tokenizers import decoders, models, pre_tokenizers

        if not isinstance(hf.model, models.BPE):
            raise TokenizerError("the saved tokenizer is not a BPE model")
        if not isinstance(hf.pre_tokenizer, pre_tokenizers.ByteLevel) or not isinstance(
            hf.decoder, decoders.ByteLevel
        ):
            raise TokenizerError("the saved BPE tokenizer is not byte-level")
        if hf.normalizer is not None:
            raise TokenizerError("the saved BPE tokenizer normalizes text, so it would not round-trip")
        size = hf.get_vocab_size()
        if not MIN_BPE_VOCAB <= size <= MAX_VOCAB:
            raise TokenizerError(f"BPE vocabulary size {size} is outside {MIN_BPE_VOCAB}..{MAX_VOCAB}")
        pieces: list[bytes] = []
        for i in range(size):
            token = hf.id_to_token(i)
            if token is None:
                raise TokenizerError(f"the saved BPE vocabulary has no token with id {i}")
            if i < len(SPECIALS):
                if token != SPECIALS[i]:
                    raise TokenizerError(f"BPE token {i} must be {SPECIALS[i]}, not {token!r}")
                pieces.append(token.encode())
            elif all(c in CHAR_TO_BYTE for c in token) and token:
                pieces.append(bytes(CHAR_TO_BYTE[c] for c in token))
            else:
                raise TokenizerError(f"BPE token {i} ({token!r}) is not made of byte-level characters")
        if any(hf.token_to_id(c) is None for c in BYTE_TO_CHAR.values()):
            raise TokenizerError("the saved BPE vocabulary lacks some single bytes, so not all text encodes")
        self._hf = hf
        self._bytes = pieces

    @property
    def vocab_size(self) -> int:
        return len(self._bytes)

    def encode(self, text: str) -> list[int]:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as e:
            raise TokenizerError(
                f"text has an unpaired surrogate at index {e.start}; it is not Unicode text"
            ) from None
        return self._hf.encode(text, add_special_tokens=False).ids

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        for text in texts:
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as e:
                raise TokenizerError(
                    f"text has an unpaired surrogate at index {e.start}; it is not Unicode text"
                ) from None
        return [e.ids for e in self._hf.encode_batch(list(texts), add_special_tokens=False)]

    def decode(self, ids: Sequence[int]) -> str:
        self._check_ids(ids)
        return b"".join(self._bytes[int(i)] for i in ids).decode("utf-8", errors="replace")

    def _byte_spans(self, text: str) -> tuple[list[int], list[tuple[int, int]], list[int]]:
        """Ids, each token's byte span, and the byte end of every character."""
        ids = self.encode(text)
        ends = list(accumulate(len(self._bytes[i]) for i in ids))
        spans = list(zip([0, *ends], ends, strict=False))  # zip stops at the last end
        char_ends = list(accumulate(len(c.encode()) for c in text))
        if (ends[-1] if ends else 0) != (char_ends[-1] if char_ends else 0):
            raise TokenizerError("BPE tokens do not add up to the text's bytes")  # cannot happen by design
        return ids, spans, char_ends

    def encode_with_offsets(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        ids, spans, char_ends = self._byte_spans(text)
        # chars touched: from the first whose end passes b0 to the one holding byte b1 - 1
        offsets = [(bisect_right(char_ends, b0), bisect_left(char_ends, b1) + 1) for b0, b1 in spans]
        return ids, offsets

    def display_tokens(self, text: str) -> list[str]:
        _, spans, char_ends = self._byte_spans(text)
        # chars completed: those whose last byte lies in (b0, b1]
        return [text[bisect_right(char_ends, b0) : bisect_right(char_ends, b1)] for b0, b1 in spans]

    def unknown_chars(self, text: str) -> list[str]:
        return []

    def id_of(self, token: str) -> int | None:
        if token in SPECIALS:
            return SPECIALS.index(token)
        if not token:
            return None
        return self._hf.token_to_id("".join(BYTE_TO_CHAR[b] for b in token.encode("utf-8", "replace")))

    def to_dict(self) -> dict:
        return {"kind": self.kind, "version": FORMAT_VERSION, "tokenizer_json": self._hf.to_str()}


MAX_BPE_TRAIN_CHARS = 8_000_000  # BPE merges are learned from at most the first 8 M characters: the 39 MB
# one-"word" file peaked at 4 GB inside the library when all of it was used; a small model needs no more
MAX_WORD_CHARS = 256  # BPE sees no run of non-space characters longer than this (see `bounded_pieces`)
_LONG_RUN = re.compile(rf"(?<!\S)\S{{{MAX_WORD_CHARS + 1},}}")  # from a run's start only: 2x faster


def bounded_pieces(text: str, chars_per_piece: int = 1 << 20) -> Iterator[str]:
    """`text` in pieces of about `chars_per_piece` characters cut after a newline, with every run of more
    than MAX_WORD_CHARS non-space characters cut into runs of that length.

    Why: HF's BPE treats a run without spaces as one "word", and its training and encoding time grow far
    faster than linearly with a word's length — a 39 MB file of one "word" ran for over 16 minutes in
    `train_from_iterator` with no way to stop it. Pieces go to the library one at a time, so no single
    call is unbounded and the caller can report progress and stop between them. Ordinary text (words and
    Chinese clauses of a few dozen characters, lines cut at newlines) is tokenized as it would be whole."""
    start = 0
    while start < len(text):
        end = min(len(text), start + chars_per_piece)
        if end < len(text):
            newline = text.rfind("\n", start, end)
            end = newline + 1 if newline >= start else end
        chunk = text[start:end]
        start = end
        at = 0
        for run in _LONG_RUN.finditer(chunk):
            if run.start() > at:
                yield chunk[at : run.start()]
            for i in range(run.start(), run.end(), MAX_WORD_CHARS):
                yield chunk[i : min(i + MAX_WORD_CHARS, run.end())]
            at = run.end()
        if at < len(chunk):
            yield chunk[at:]


def token_label(tokenizer: Tokenizer, token_id: int) -> str:
    """One token as a person can read it, never empty: its characters, with any bytes that are only part
    of a character (a byte-level BPE token may end or start inside one) written as ⟨e7 8c⟩."""
    if isinstance(tokenizer, _ListedTokenizer):
        return tokenizer._itos[token_id]
    raw = tokenizer._bytes[token_id]
    out, pending = [], []
    for ch in raw.decode("utf-8", errors="surrogateescape"):
        if 0xDC80 <= ord(ch) <= 0xDCFF:  # a byte that is not a whole character here
            pending.append(f"{ord(ch) - 0xDC00:02x}")
            continue
        if pending:
            out.append("⟨" + " ".join(pending) + "⟩")
            pending = []
        out.append(ch)
    if pending:
        out.append("⟨" + " ".join(pending) + "⟩")
    return "".join(out)


def _lines(text: str, per_chunk: int = 1000) -> Iterator[str]:
    """Feed the BPE trainer in chunks of lines (newlines kept) instead of one huge string."""
    lines = text.splitlines(keepends=True)
    for i in range(0, len(lines), per_chunk):
        yield from bounded_pieces("".join(lines[i : i + per_chunk]))


def _distinct(text: str, split=None) -> list[str]:
    """The sorted distinct characters (or `split`'s pieces) of `text`, gathered a slice at a time: one set()
    over a run's 400,000 characters is a single call that held the GIL ~15 ms while the window repainted."""
    seen: set[str] = set()
    for piece in bounded_pieces(text, 1 << 16):
        seen.update(split(piece) if split else piece)
    return sorted(seen)


def train_tokenizer(kind: str, text: str, vocab_size: int = 600) -> Tokenizer:
    """Build a tokenizer from training text: the sorted characters or word pieces, or BPE merges learned
    by HF."""
    if not isinstance(text, str) or not text:
        raise TokenizerError("cannot build a tokenizer from empty text")
    if kind == "char":
        return CharTokenizer([*SPECIALS, *_distinct(text)])
    if kind == "word":
        return WordTokenizer([*SPECIALS, *_distinct(text, WORD_PIECE.findall)])
    if kind != "bpe":
        raise TokenizerError(f"tokenizer kind must be one of {KINDS}, not {kind!r}")
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, int):
        raise TokenizerError(f"BPE vocabulary size must be a whole number, not {vocab_size!r}")
    if not MIN_BPE_VOCAB <= vocab_size <= MAX_VOCAB:
        raise TokenizerError(
            f"BPE vocabulary size must be between {MIN_BPE_VOCAB} (256 bytes + 2 specials) and {MAX_VOCAB}"
        )
    from tokenizers import Tokenizer as HfTokenizer
    from tokenizers import decoders, models, pre_tokenizers, trainers

    hf = HfTokenizer(models.BPE())
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    hf.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIALS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    if len(text) > MAX_BPE_TRAIN_CHARS:  # merges from a sample: the library's memory grows with the text
        cut = text.rfind("\n", 0, MAX_BPE_TRAIN_CHARS)
        text = text[: cut + 1 if cut > 0 else MAX_BPE_TRAIN_CHARS]
    hf.train_from_iterator(_lines(text), trainer=trainer)
    return BpeTokenizer(hf)


def tokenizer_from_dict(d: dict) -> Tokenizer:
    """Rebuild a saved tokenizer; anything malformed becomes a TokenizerError, never a crash later."""
    if not isinstance(d, dict):
        raise TokenizerError("a saved tokenizer must be a JSON object")
    kind = d.get("kind")
    if d.get("version", FORMAT_VERSION) != FORMAT_VERSION:
        raise TokenizerError(f"unsupported tokenizer format version {d.get('version')!r}")
    if kind == "char":
        vocab = d.get("vocab")
        if not isinstance(vocab, list):
            raise TokenizerError("a saved char tokenizer needs a 'vocab' list")
        return CharTokenizer(vocab)
    if kind == "word":
        vocab = d.get("vocab")
        if not isinstance(vocab, list):
            raise TokenizerError("a saved word tokenizer needs a 'vocab' list")
        return WordTokenizer(vocab)
    if kind == "bpe":
        blob = d.get("tokenizer_json")
        if not isinstance(blob, str):
            raise TokenizerError("a saved BPE tokenizer needs a 'tokenizer_json' string")
        from tokenizers import Tokenizer as HfTokenizer

        try:
            json.loads(blob)
            hf = HfTokenizer.from_str(blob)
        except Exception as e:  # the library raises plain Exception subclasses for bad JSON
            first_line = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise TokenizerError(f"the saved BPE tokenizer is not valid: {first_line}") from None
        return BpeTokenizer(hf)
    raise TokenizerError(f"unknown tokenizer kind {kind!r} (expected one of {KINDS})")


__all__ = [
    "MASK",
    "UNK",
    "BpeTokenizer",
    "CharTokenizer",
    "Tokenizer",
    "TokenizerError",
    "token_label",
    "WordTokenizer",
    "tokenizer_from_dict",
    "train_tokenizer",
]
