"""The word-vector panel: a map of the vectors (PCA, t-SNE or two semantic axes), nearest neighbours,
the "personality tag" table, and a time-lapse of the run."""

from gui.panels.embedding.panel import EmbeddingPanel

__all__ = ["EmbeddingPanel"]
