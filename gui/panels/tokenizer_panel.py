"""Tokenizer panel: type a sentence, see the pieces the model actually reads, each with its id.

Char vs BPE is the lesson (Chinese: one character per token; English: sub-words), and so is <unk>: a
character never seen in training is invisible to a char-level model. Tokenizers are trained on the world
corpus in a worker, once per (kind, language), or taken from the loaded model."""

from __future__ import annotations

import re

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QScrollArea, QVBoxLayout, QWidget

from gui import workers
from gui.i18n import tr
from gui.widgets.token_chips import Chip, TokenChips

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
DEFAULT_TEXT = "猫坐在垫子上，它很舒服。"


def _train(kind: str, lang: str):
    from core.config import TrainConfig
    from core.data.world import world_corpus
    from core.model.tokenizer import train_tokenizer

    return train_tokenizer(kind, world_corpus(lang).train_text, TrainConfig().bpe_vocab)


def chips_for(tokenizer, text: str) -> list[Chip]:
    """One chip per token: readable text, id, and whether the model sees only <unk> there."""
    ids, spans = tokenizer.encode_with_offsets(text)
    shown = tokenizer.display_tokens(text)
    unk = getattr(tokenizer, "unk_id", 0)
    out = []
    for i, token_id in enumerate(ids):
        s, e = spans[i] if i < len(spans) else (0, 0)
        piece = shown[i] if i < len(shown) else ""
        if token_id == unk or not piece or piece.startswith("<"):
            piece = text[s:e] or piece
        out.append(Chip(piece, int(token_id), token_id == unk))
    return out


class TokenizerPanel(QWidget):
    def __init__(self, context=None, train=_train) -> None:
        super().__init__()
        self.setObjectName("tokenizerPanel")
        self.context = context
        self._train = train
        self._cache: dict[tuple[str, str], object] = {}
        self._started = False  # no tokenizer is trained before the window's first paint
        self._pending: set[tuple[str, str]] = set()
        self._error = ""
        self.input = QLineEdit(DEFAULT_TEXT, objectName="tokenizerInput")
        self.kind = QComboBox(objectName="tokenizerKind")
        self.kind.addItem("", "char")
        self.kind.addItem("BPE", "bpe")
        self.kind_label = QLabel()
        self.output = TokenChips()
        self.output.setObjectName("tokenizerOutput")
        scroll = QScrollArea(widgetResizable=True)
        scroll.setWidget(self.output)
        self.info = QLabel(objectName="tokenizerInfo", wordWrap=True)
        row = QHBoxLayout()
        row.addWidget(self.input, 1)
        row.addWidget(self.kind_label)
        row.addWidget(self.kind)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.info)
        self.input.textChanged.connect(self.refresh)
        self.kind.currentIndexChanged.connect(self.refresh)
        if context is not None:
            context.model_loaded.connect(self._on_model_loaded)
            if context.current_model is not None:
                self._on_model_loaded(context.current_model)
        self.retranslate()
        workers.after_startup(self, self._start)

    def _start(self) -> None:
        self._started = True
        self.refresh()

    def retranslate(self) -> None:
        self.kind.setItemText(0, tr("按字", "char"))
        if self.kind.count() > 2:
            self.kind.setItemText(2, tr("当前模型", "loaded model"))
        self.kind_label.setText(tr("分词方式", "Tokenizer"))
        self.input.setPlaceholderText(tr("输入一句话…", "Type a sentence…"))
        self.refresh()

    def _on_model_loaded(self, checkpoint) -> None:
        tokenizer = getattr(checkpoint, "tokenizer", None)
        if tokenizer is None:
            return
        self._cache[("model", "")] = tokenizer
        if self.kind.count() < 3:
            self.kind.addItem(tr("当前模型", "loaded model"), "model")
        self.refresh()

    def _key(self) -> tuple[str, str]:
        kind = self.kind.currentData()
        if kind == "model":
            return ("model", "")
        return (kind, "zh" if CJK.search(self.input.text()) else "en")

    def tokenizer(self):
        """The tokenizer for the current choice, or None while it is being trained (starts that)."""
        key = self._key()
        if key in self._cache:
            return self._cache[key]
        if key not in self._pending and self._started:
            self._pending.add(key)
            workers.call_in_worker(
                lambda: self._train(*key),
                lambda tok, key=key: self._on_trained(key, tok),
                lambda msg, key=key: self._on_failed(key, msg),
                owner=self,
            )
        return None

    def _on_trained(self, key, tokenizer) -> None:
        self._pending.discard(key)
        self._cache[key] = tokenizer
        self.refresh()

    def _on_failed(self, key, message: str) -> None:
        self._pending.discard(key)
        self._error = message
        self.info.setText(tr("分词器训练失败：", "Tokenizer failed: ") + message)

    def refresh(self, *_) -> None:
        tokenizer = self.tokenizer()
        text = self.input.text()
        if tokenizer is None:
            self.output.set_chips([])
            if not self._error:
                self.info.setText(
                    tr("正在用小世界语料训练分词器…", "Training the tokenizer on the world corpus…")
                )
            return
        chips = chips_for(tokenizer, text)
        self.output.set_chips(chips)
        unknown = tokenizer.unknown_chars(text)
        info = tr(
            f"{len(text)} 个字符 → {len(chips)} 个词元（词表 {tokenizer.vocab_size}）",
            f"{len(text)} characters → {len(chips)} tokens (vocabulary {tokenizer.vocab_size})",
        )
        if unknown:
            info += tr("。没见过的字（红框）：", ". Never seen (red): ") + " ".join(unknown)
        self.info.setText(info)

    def chips(self) -> list[Chip]:
        return self.output.chips()
