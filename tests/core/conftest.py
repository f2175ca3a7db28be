"""Shared fixtures for the engine tests: a small world corpus built once, tiny configs, and one thread
per test so a shared, busy machine does not turn seconds into minutes."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from core.config import ModelConfig, TrainConfig
from core.data.corpus import Corpus
from core.data.world import world_corpus
from core.model.gpt import GPT
from core.model.tokenizer import Tokenizer, train_tokenizer

# The smallest model the trainer's probes can still run on (context must hold a probe sentence).
TINY_MODEL = ModelConfig(n_layer=1, n_head=2, n_embd=16, block_size=32)


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """The trainer sets torch's thread count process-wide; restore it so no test leaks the setting."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def zh_world() -> Corpus:
    """A 20k-character Chinese world with a handful of probes: probes are scored one forward each."""
    corpus = world_corpus("zh", seed=0, n_train_chars=20_000)
    return replace(corpus, probes=corpus.probes[:8], cloze_checks=corpus.cloze_checks[:4])


@pytest.fixture(scope="session")
def zh_tokenizer(zh_world: Corpus) -> Tokenizer:
    return train_tokenizer("char", zh_world.train_text)


@pytest.fixture(scope="session")
def tiny_model_cfg() -> ModelConfig:
    return TINY_MODEL


@pytest.fixture
def tiny_train_cfg() -> TrainConfig:
    return TrainConfig(batch_size=8, steps=12, warmup_steps=2, eval_every=6, snapshot_every=6, threads=1)


@pytest.fixture
def make_model():
    """Factory for a tiny GPT with a fixed seed; keyword arguments override TINY_MODEL's fields."""

    def make(vocab_size: int = 40, seed: int = 0, **overrides) -> GPT:
        torch.manual_seed(seed)
        return GPT(replace(TINY_MODEL, vocab_size=vocab_size, **overrides))

    return make
