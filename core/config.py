"""Frozen dataclass configs and the named presets. Forms build `dataclasses.replace(...)`;
checkpoints store `asdict(cfg)` and rebuild with `from_dict`, which bounds every value first."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

OBJECTIVES = ("causal", "masked")
LANGS = ("zh", "en")


def model_lang(checkpoint) -> str:
    """The world language a checkpoint was trained on ("zh" or "en"), from its meta or its train config;
    "zh" when neither says (a user's file). Its probe words and examples are in that language."""
    meta = getattr(checkpoint, "meta", None) or {}
    lang = meta.get("lang") or getattr(getattr(checkpoint, "train_cfg", None), "lang", None)
    return lang if lang in LANGS else "zh"


class ConfigError(ValueError):
    """A configuration value outside what the engine accepts (message names the field)."""


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int = 256  # set from the tokenizer before the model is built
    n_layer: int = 2  # transformer blocks
    n_head: int = 4  # attention heads per block
    n_embd: int = 64  # residual stream width
    block_size: int = 32  # context length in tokens
    dropout: float = 0.0  # of a head's output per token, in training only (`default` uses it: see PRESETS)
    objective: str = "causal"  # "causal" (next token, GPT) or "masked" (fill the blank, bidirectional)

    def validate(self) -> ModelConfig:
        """Bound every field before anything is allocated: absurd sizes become a clear error."""
        _check_types(self)
        _bound("vocab_size", self.vocab_size, 2, 200_000)
        _bound("n_layer", self.n_layer, 1, 48)
        _bound("n_head", self.n_head, 1, 64)
        _bound("n_embd", self.n_embd, 8, 4096)
        _bound("block_size", self.block_size, 4, 4096)
        _bound("dropout", self.dropout, 0.0, 0.9)
        if self.n_embd % self.n_head:
            raise ConfigError(f"n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head})")
        if self.objective not in OBJECTIVES:
            raise ConfigError(f"objective must be one of {OBJECTIVES}, not {self.objective!r}")
        if self.vocab_size * self.n_embd > 200_000_000 or 12 * self.n_layer * self.n_embd**2 > 2_000_000_000:
            raise ConfigError("model too large for this application (over ~2 billion parameters)")
        return self


@dataclass(frozen=True)
class TrainConfig:
    batch_size: int = 64  # sequences per step
    lr: float = 2e-3  # peak AdamW learning rate
    min_lr_ratio: float = 0.1  # cosine decays to lr * this
    warmup_steps: int = 30  # linear warm-up
    weight_decay: float = 0.01  # AdamW decoupled weight decay (matrices only)
    grad_clip: float = 1.0  # max global gradient norm
    steps: int = 0  # stop after this many steps (0: use `seconds`)
    seconds: float = 60.0  # stop after this much wall time when steps == 0
    eval_every: int = 100  # held-out loss and probe metrics every K steps
    snapshot_every: int = 50  # embeddings + probe attention every K steps
    checkpoint_every: int = 0  # also save a checkpoint every K steps (0: only at the end)
    checkpoint_seconds: float = 300.0  # and at least this often in wall time, so a long run never loses much
    seed: int = 0  # corpus, init and batch order
    lang: str = "zh"  # world corpus language
    tokenizer: str = "auto"  # char, word, bpe or auto (zh: char; English world: word; a file: bpe)
    bpe_vocab: int = 600  # BPE vocabulary size
    threads: int = 0  # torch threads (0: one per core, or 1 when the machine is busy; see threads_for_now)

    def validate(self) -> TrainConfig:
        _check_types(self)
        _bound("seed", self.seed, 0, 2**31 - 1)
        _bound("batch_size", self.batch_size, 1, 4096)
        _bound("lr", self.lr, 1e-6, 1.0)
        _bound("min_lr_ratio", self.min_lr_ratio, 0.0, 1.0)
        _bound("warmup_steps", self.warmup_steps, 0, 1_000_000)
        _bound("weight_decay", self.weight_decay, 0.0, 1.0)
        _bound("grad_clip", self.grad_clip, 0.0, 1e6)
        _bound("steps", self.steps, 0, 100_000_000)
        _bound("seconds", self.seconds, 0.0, 30 * 86400)
        if self.steps == 0 and self.seconds <= 0:
            raise ConfigError("give a positive number of steps or seconds")
        _bound("eval_every", self.eval_every, 1, 100_000_000)
        _bound("snapshot_every", self.snapshot_every, 1, 100_000_000)
        _bound("checkpoint_every", self.checkpoint_every, 0, 100_000_000)
        _bound("checkpoint_seconds", self.checkpoint_seconds, 0.0, 30 * 86400)
        _bound("bpe_vocab", self.bpe_vocab, 258, 100_000)  # 256 bytes + 2 specials
        _bound("threads", self.threads, 0, 1024)
        if self.lang not in LANGS:
            raise ConfigError(f"lang must be one of {LANGS}, not {self.lang!r}")
        if self.tokenizer not in ("auto", "char", "word", "bpe"):
            raise ConfigError(f"tokenizer must be auto, char, word or bpe, not {self.tokenizer!r}")
        return self


@dataclass(frozen=True)
class Preset:
    name: str
    model: ModelConfig
    train: TrainConfig
    english: tuple[tuple[str, object], ...] = ()  # TrainConfig fields that differ on the English world

    def train_for(self, lang: str) -> TrainConfig:
        """The training config for the world corpus in `lang` (zh or en)."""
        return replace(self.train, lang=lang, **(dict(self.english) if lang == "en" else {}))


PRESETS: dict[str, Preset] = {
    # Seconds on a laptop: for tests and quick looks.
    "tiny": Preset(
        "tiny",
        ModelConfig(n_layer=1, n_head=2, n_embd=32, block_size=32),
        TrainConfig(batch_size=32, steps=60, warmup_steps=5, eval_every=20, snapshot_every=20),
    ),
    # The 60-second demo: learns 它 → 猫 on 2 CPU cores. One rate for both languages: with BPE-600 English
    # needed 4e-3 decaying to 40 % to copy the antecedent within a minute (top-1 0.70 at 1,250 steps at
    # 2e-3), and that rate makes Chinese attention a lottery too. Read one token per word, English copies at
    # 2e-3: top-1 1.00 / 0.99 / 1.00 at 1,200 fixed steps, seeds 0-2 (at 4e-3, seed 0: 1.00, attention 0.49).
    # Dropout 0.1 of a head's output per token: without it the first layer settles on one head that yields to
    # the predicate plus heads that copy the other kind of noun whatever the predicate says, and the mean of
    # heads fails when those outnumber it (at 1,300 steps: zh seed 8 attention 0.58, en seed 4 0.58). A head
    # that may be dropped must have a stand-in, so more heads yield. At 1,200 fixed steps (a minute on a slow
    # 2-core machine): English and Chinese 10 of 10 seeds each (zh 8: 0.90; per-weight masks gave it 0.69 and
    # cost 1.4x the step). 0.15 and 0.2 cost top-1. docs/experiments.md, "Attention dropout" and after.
    "default": Preset("default", ModelConfig(dropout=0.1), TrainConfig()),
    # The article's 完形填空: bidirectional, trained to fill masked tokens.
    "cloze": Preset(
        "cloze",
        ModelConfig(objective="masked"),
        TrainConfig(seconds=120.0, eval_every=200, snapshot_every=100),
    ),
    # Bigger model to distil from.
    "teacher": Preset(
        "teacher",
        ModelConfig(n_layer=4, n_head=4, n_embd=128, block_size=32),
        TrainConfig(lr=1e-3, seconds=300.0, eval_every=200, snapshot_every=100),
    ),
}


def from_dict(cls, data: dict):
    """Rebuild a config from JSON, ignoring unknown keys and rejecting wrong types, then validate."""
    if not isinstance(data, dict):
        raise ConfigError(f"{cls.__name__} must be a JSON object")
    kwargs = {}
    for f in fields(cls):
        if f.name in data:
            value = data[f.name]
            default = getattr(cls(), f.name)
            if isinstance(default, bool) or not isinstance(value, type(default)):
                if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
                    value = float(value)
                else:
                    raise ConfigError(f"{cls.__name__}.{f.name} has the wrong type: {value!r}")
            kwargs[f.name] = value
    return cls(**kwargs).validate()


def to_dict(cfg) -> dict:
    return asdict(cfg)


def _check_types(cfg) -> None:
    """Integer fields must hold integers (2.5 layers is not a model); floats accept integers."""
    for f in fields(cfg):
        value, default = getattr(cfg, f.name), getattr(type(cfg)(), f.name)
        if isinstance(default, int) and (isinstance(value, bool) or not isinstance(value, int)):
            raise ConfigError(f"{f.name} must be a whole number, not {value!r}")


def _bound(name: str, value, low, high) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (low <= value <= high):
        raise ConfigError(f"{name} must be between {low} and {high}, not {value!r}")


__all__ = [
    "ConfigError",
    "ModelConfig",
    "TrainConfig",
    "Preset",
    "PRESETS",
    "from_dict",
    "to_dict",
    "replace",
]
