"""Tokenizer lab: the same text cut by the character tokenizer and by BPE, side by side, each with its
tokens, ids, token count, characters per token and vocabulary size; BPE retrained at any vocabulary size;
a text file's token statistics.

Char vs BPE is the lesson (Chinese: one character per token; English: sub-words), and so is <unk>: a
character never seen in training is invisible to a char-level model. All tokenizing runs in workers,
after a short debounce, so a 1 MB paste or a 50 MB file never freezes the window; chips are drawn for
the first CHIP_CAP characters only (the note says so) while the counts cover the whole text."""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gui import workers
from gui.i18n import tr
from gui.widgets.token_chips import Chip, TokenChips

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
DEFAULT_TEXT = "猫坐在垫子上，它很舒服。"
CHIP_CAP = 2_000  # characters drawn as chips; the counts cover the whole text
DEBOUNCE_MS = 150
EXACT_UP_TO = 4_096  # characters counted by one `encode`; longer pieces line by line (see _count)
CHUNK = 64 * 1024  # characters per piece when counting a large text (each piece holds the GIL briefly)
BPE_RANGE = (300, 5_000)
DEFAULT_BPE = 600  # TrainConfig().bpe_vocab
FILE_LIMIT = 200 * 1024 * 1024


_trained: dict[tuple, object] = {}  # process-wide: a second window (or panel) trains nothing again
_train_lock = threading.Lock()


def _train(kind: str, lang: str, vocab: int = DEFAULT_BPE):
    """A tokenizer of the world corpus, as the trainer would build it; one at a time, each built once."""
    from core.data.world import world_corpus
    from core.model.tokenizer import train_tokenizer

    with _train_lock:
        key = (kind, lang, vocab if kind == "bpe" else 0)
        if key not in _trained:
            text = _trained.get(("text", lang)) or world_corpus(lang).train_text
            _trained[("text", lang)] = text
            _trained[key] = train_tokenizer(kind, text, vocab)
        return _trained[key]


def _readable(ch: str) -> str:
    """A character a chip can show: invisible ones (zero-width, controls, lone combining marks) as ⟨U+200B⟩."""
    if ch in " \n\t" or (ch.isprintable() and not _combining(ch)):
        return ch
    return f"⟨U+{ord(ch):04X}⟩"


def _combining(ch: str) -> bool:
    import unicodedata

    return unicodedata.combining(ch) != 0 or unicodedata.category(ch) in ("Mn", "Me", "Cf")


def chips_for(tokenizer, text: str) -> list[Chip]:
    """One chip per token, never empty: its readable text, its id, whether the model sees only <unk>
    there, and whether it holds only part of a character's bytes (shown as ⟨e7 8c⟩, dashed)."""
    from core.model.tokenizer import BpeTokenizer, token_label

    ids, spans = tokenizer.encode_with_offsets(text)
    unk = getattr(tokenizer, "unk_id", 0)
    out = []
    if isinstance(tokenizer, BpeTokenizer):
        for token_id in ids:
            label = token_label(tokenizer, token_id)
            out.append(Chip("".join(map(_readable, label)), int(token_id), False, "⟨" in label))
        return out
    shown = tokenizer.display_tokens(text)
    for i, token_id in enumerate(ids):
        s, e = spans[i] if i < len(spans) else (0, 0)
        piece = shown[i] if i < len(shown) else ""
        if token_id == unk or not piece or piece.startswith("<"):
            piece = text[s:e] or piece
        out.append(Chip("".join(map(_readable, piece)) or "◌", int(token_id), token_id == unk))
    return out


@dataclass(frozen=True)
class Stats:
    chars: int
    tokens: int
    vocab: int
    unknown: tuple[str, ...] = ()  # distinct characters that become <unk>
    unknown_count: int = 0  # how many characters of the text they are

    @property
    def chars_per_token(self) -> float:
        return self.chars / self.tokens if self.tokens else 0.0


def _pieces(text: str):
    """Pieces of about CHUNK characters, cut after a line end where there is one."""
    start = 0
    while start < len(text):
        end = min(len(text), start + CHUNK)
        if end < len(text):
            cut = text.rfind("\n", start, end)
            end = cut + 1 if cut > start else end
        yield text[start:end]
        start = end


def file_pieces(path: str, block: int = CHUNK):
    """A UTF-8 file as text pieces, read and decoded a block at a time (bad bytes become U+FFFD): no single
    call holds the GIL long, so the window keeps painting while a 50 MB file is counted."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    with open(path, "rb") as f:
        while data := f.read(block):
            yield from _pieces(decoder.decode(data))
        yield decoder.decode(b"", final=True)


def _count(tok, piece: str) -> int:
    """Tokens in `piece`: exactly `encode` for a short text; a longer one line by line through
    encode_batch, which runs without the GIL (a line end starts a new BPE word either way, so the count
    differs only where spaces run across a line end)."""
    if len(piece) <= EXACT_UP_TO or not hasattr(tok, "encode_batch"):
        encode = getattr(tok, "encode", None) or (lambda t: tok.encode_with_offsets(t)[0])
        return len(encode(piece))
    return sum(map(len, tok.encode_batch(piece.splitlines(keepends=True))))


def count_tokens(tokenizers, pieces, total: int = 0, progress=None) -> list[Stats]:
    """Stats of the whole text for each tokenizer, fed piece by piece; `progress(fraction of total)`."""
    n = len(tokenizers)
    tokens, chars = [0] * n, 0
    unknown = [Counter() for _ in range(n)]
    for piece in pieces:
        chars += len(piece)
        for i, tok in enumerate(tokenizers):
            tokens[i] += _count(tok, piece)
            for ch in getattr(tok, "unknown_chars", lambda _t: [])(piece):
                unknown[i][ch] += piece.count(ch)
        if progress is not None and total:
            progress(min(1.0, chars / total))
    return [
        Stats(chars, tokens[i], int(getattr(tok, "vocab_size", 0)), tuple(unknown[i]), sum(unknown[i].values()))
        for i, tok in enumerate(tokenizers)
    ]


def text_stats(tokenizer, text: str) -> Stats:
    return count_tokens([tokenizer], _pieces(text))[0]


def stats_text(stats: Stats) -> str:
    text = tr(
        f"{stats.chars:,} 个字符 → {stats.tokens:,} 个词元，每个词元 {stats.chars_per_token:.2f} 个字符，"
        f"词表 {stats.vocab:,}",
        f"{stats.chars:,} characters → {stats.tokens:,} tokens, {stats.chars_per_token:.2f} characters per "
        f"token, vocabulary {stats.vocab:,}",
    )
    if stats.unknown:
        shown = " ".join(stats.unknown[:20]) + (" …" if len(stats.unknown) > 20 else "")
        text += tr("。没见过的字（红框）：", ". Never seen (red): ") + shown
    return text


class TextInput(QPlainTextEdit):
    """Plain text of any length (a QLineEdit silently cuts a paste at 32,767 characters)."""

    def text(self) -> str:
        return self.toPlainText()

    def setText(self, text: str) -> None:
        self.setPlainText(text)


class _Progress(QObject):
    changed = Signal(float)


class _Pane(QWidget):
    """One tokenizer's view: a title, its chips and its numbers."""

    def __init__(self, chips_name: str, info_name: str) -> None:
        super().__init__()
        self.title = QLabel()
        self.output = TokenChips()
        self.output.setObjectName(chips_name)
        scroll = QScrollArea(widgetResizable=True)
        scroll.setWidget(self.output)
        self.info = QLabel(objectName=info_name, wordWrap=True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.info)


class TokenizerPanel(QWidget):
    def __init__(self, context=None, train=_train) -> None:
        super().__init__()
        self.setObjectName("tokenizerPanel")
        self.context = context
        self._train = train
        self._cache: dict[tuple, object] = {}
        self._pending: set[tuple] = set()
        self._started = False  # no tokenizer is trained before the window's first paint
        self._error = ""
        self._generation = 0  # results of an older text are dropped
        self._busy = 0
        self.input = TextInput(objectName="tokenizerInput")
        self.input.setPlainText(DEFAULT_TEXT)
        self.input.setMaximumHeight(90)
        self.kind = QComboBox(objectName="tokenizerKind")
        self.kind.addItem("", "char")
        self.kind.addItem("BPE", "bpe")
        self.kind_label = QLabel()
        self.bpe_vocab = QSpinBox(objectName="tokenizerBpeVocab", minimum=BPE_RANGE[0], maximum=BPE_RANGE[1])
        self.bpe_vocab.setValue(DEFAULT_BPE)
        self.bpe_vocab.setSingleStep(100)
        self.bpe_label = QLabel()
        self.open_button = QPushButton(objectName="tokenizerOpenFile")
        self.open_button.clicked.connect(lambda: self.open_file())
        self.progress = QProgressBar(objectName="tokenizerProgress", visible=False, maximum=0)
        self.cap_note = QLabel(objectName="tokenizerCapNote", wordWrap=True, visible=False)
        self.left = _Pane("tokenizerOutput", "tokenizerInfo")
        self.right = _Pane("tokenizerCompareOutput", "tokenizerCompareInfo")
        self.output, self.info = self.left.output, self.left.info
        self.file_stats = QLabel(objectName="tokenizerFileStats", wordWrap=True)
        self._file_progress = _Progress(self)
        self._file_progress.changed.connect(self._on_file_progress)
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self._tokenize)
        row = QHBoxLayout()
        for w in (self.kind_label, self.kind, self.bpe_label, self.bpe_vocab, self.open_button):
            row.addWidget(w)
        row.addStretch(1)
        panes = QGridLayout()
        panes.addWidget(self.left, 0, 0)
        panes.addWidget(self.right, 0, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.input)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        layout.addWidget(self.cap_note)
        layout.addLayout(panes, 1)
        layout.addWidget(self.file_stats)
        self.input.textChanged.connect(self.refresh)
        self.kind.currentIndexChanged.connect(self.refresh)
        self.bpe_vocab.valueChanged.connect(self.refresh)
        if context is not None:
            context.model_loaded.connect(self._on_model_loaded)
            if context.current_model is not None:
                self._on_model_loaded(context.current_model)
        self.retranslate()
        workers.after_startup(self, self._start)

    def _start(self) -> None:
        self._started = True
        self._tokenize()

    def retranslate(self) -> None:
        self.kind.setItemText(0, tr("按字", "char"))
        if self.kind.count() > 2:
            self.kind.setItemText(2, tr("当前模型", "loaded model"))
        self.kind_label.setText(tr("分词方式", "Tokenizer"))
        self.bpe_label.setText(tr("BPE 词表大小", "BPE vocabulary"))
        self.open_button.setText(tr("打开文本文件…", "Open a text file…"))
        self.input.setPlaceholderText(tr("输入或粘贴一段文字…", "Type or paste some text…"))
        self.refresh()

    def _on_model_loaded(self, checkpoint) -> None:
        tokenizer = getattr(checkpoint, "tokenizer", None)
        if tokenizer is None:
            return
        self._cache[("model",)] = tokenizer
        if self.kind.count() < 3:
            self.kind.addItem(tr("当前模型", "loaded model"), "model")
        self.refresh()

    # -- which tokenizers --------------------------------------------------------------------------------

    def _lang(self, text: str) -> str:
        """The world corpus the tokenizers learn from: Chinese when Chinese characters are at least as
        many as Latin letters in the shown part."""
        head = text[:CHIP_CAP]
        cjk = len(CJK.findall(head))
        return "zh" if cjk and cjk >= sum(c.isascii() and c.isalpha() for c in head) else "en"

    def _keys(self, text: str) -> tuple[tuple, tuple]:
        """(left, right): the chosen tokenizer, and the other kind beside it."""
        lang, vocab = self._lang(text), self.bpe_vocab.value()
        kind = self.kind.currentData()
        if kind == "model":
            model_kind = getattr(self._cache[("model",)], "kind", "char")
            other = "bpe" if model_kind == "char" else "char"
            return ("model",), (other, lang, vocab if other == "bpe" else 0)
        other = "bpe" if kind == "char" else "char"
        key = (kind, lang, vocab if kind == "bpe" else 0)
        return key, (other, lang, vocab if other == "bpe" else 0)

    def _tokenizer(self, key: tuple):
        """The tokenizer for `key`, or None while it is trained in a worker (that is started here)."""
        if key in self._cache:
            return self._cache[key]
        if key not in self._pending and self._started:
            self._pending.add(key)
            self._set_busy(+1)
            kind, lang, vocab = key
            train = self._train  # (kind, lang), plus the vocabulary size when it is not the default
            workers.call_in_worker(
                (lambda: train(kind, lang))
                if vocab in (0, DEFAULT_BPE)
                else (lambda: train(kind, lang, vocab)),
                lambda tok, key=key: self._on_trained(key, tok),
                lambda msg, key=key: self._on_failed(key, msg),
                owner=self,
            )
        return None

    def tokenizer(self):
        """The left pane's tokenizer, or None while it is being trained."""
        return self._tokenizer(self._keys(self.input.text())[0])

    def _on_trained(self, key, tokenizer) -> None:
        self._pending.discard(key)
        self._set_busy(-1)
        self._cache[key] = tokenizer
        self._tokenize()

    def _on_failed(self, key, message: str) -> None:
        self._pending.discard(key)
        self._set_busy(-1)
        self._error = message
        self.info.setText(tr("分词器训练失败：", "Tokenizer failed: ") + message)

    def _set_busy(self, delta: int) -> None:
        self._busy = max(0, self._busy + delta)
        self.progress.setVisible(self._busy > 0)

    # -- tokenizing, off the GUI thread --------------------------------------------------------------------

    def refresh(self, *_) -> None:
        """Debounced: typing or a paste re-tokenizes once the text has been still for DEBOUNCE_MS."""
        self._timer.start()

    def _tokenize(self) -> None:
        text = self.input.text()
        self._generation += 1
        generation = self._generation
        panes = []
        for pane, key in zip((self.left, self.right), self._keys(text), strict=True):
            pane.title.setText(self._title(key))
            tok = self._tokenizer(key)
            if tok is None:
                pane.output.set_chips([])
                if not self._error:
                    pane.info.setText(
                        tr("正在用小世界语料训练分词器…", "Training the tokenizer on the world corpus…")
                    )
            panes.append((pane, tok))
        capped = len(text) > CHIP_CAP
        self.cap_note.setVisible(capped)
        self.cap_note.setText(
            tr(
                f"只把前 {CHIP_CAP:,} 个字符画成词元；下面的计数是全部 {len(text):,} 个字符的。",
                f"Showing the first {CHIP_CAP:,} characters as tokens; the counts below cover all "
                f"{len(text):,} characters.",
            )
        )
        ready = [(pane, tok) for pane, tok in panes if tok is not None]
        if not ready:
            return

        def work():
            return [(chips_for(tok, text[:CHIP_CAP]), text_stats(tok, text)) for _, tok in ready]

        def show(results):
            if generation != self._generation:
                return  # the text changed meanwhile
            for (pane, _), (chips, stats) in zip(ready, results, strict=True):
                pane.output.set_chips(chips)
                pane.info.setText(stats_text(stats))

        workers.call_in_worker(work, show, self._on_error, owner=self)

    def _on_error(self, message: str) -> None:
        self.info.setText(message)

    def _title(self, key: tuple) -> str:
        if key[0] == "model":
            return tr("当前模型的分词器", "The loaded model's tokenizer")
        world = tr("中文", "Chinese") if key[1] == "zh" else tr("英文", "English")
        if key[0] == "char":
            return tr(f"按字分词（{world}小世界语料）", f"Character tokenizer ({world} world corpus)")
        return tr(
            f"BPE（词表 {key[2]}，{world}小世界语料）", f"BPE (vocabulary {key[2]}, {world} world corpus)"
        )

    def chips(self) -> list[Chip]:
        """The left pane's chips (what tokenizerOutput shows)."""
        return self.left.output.chips()

    def compare_chips(self) -> list[Chip]:
        return self.right.output.chips()

    # -- a text file's statistics --------------------------------------------------------------------------

    def open_file(self, path: str | None = None) -> None:
        path = path or QFileDialog.getOpenFileName(self, tr("打开文本文件", "Open a text file"))[0]
        if not path:
            return
        text = self.input.text()
        toks = [self._tokenizer(key) for key in self._keys(text)]
        if any(t is None for t in toks):
            self.file_stats.setText(
                tr("分词器还在训练，请稍后再试。", "The tokenizers are still training; try again.")
            )
            return
        progress = self._file_progress.changed
        self.file_stats.setText(tr("正在统计…", "Counting…"))
        self.progress.setMaximum(1000)
        self._set_busy(+1)

        def work():
            import os

            size = os.path.getsize(path)
            if size > FILE_LIMIT:
                raise ValueError(f"the file is over {FILE_LIMIT // 2**20} MB")
            return count_tokens(toks, file_pieces(path), size, progress.emit)  # bytes ≥ characters

        def done(results):
            self._file_done()
            name = path.replace("\\", "/").rsplit("/", 1)[-1]
            lines = [f"{name}:"]
            for key, stats in zip(self._keys(text), results, strict=True):
                lines.append(f"{self._title(key)} — {stats_text(stats)}")
            self.file_stats.setText("\n".join(lines))

        def failed(message):
            self._file_done()
            self.file_stats.setText(tr("无法读取这个文件：", "Cannot read this file: ") + message)

        workers.call_in_worker(work, done, failed, owner=self)

    def _on_file_progress(self, fraction: float) -> None:
        self.progress.setValue(int(fraction * 1000))

    def _file_done(self) -> None:
        self._set_busy(-1)
        self.progress.setMaximum(0)
