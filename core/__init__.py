"""LLM Explorer's headless engine: corpus, tokenizers, model, trainer, probes, FLOPs. Never imports Qt."""

__version__ = "0.1.0"
