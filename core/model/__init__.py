"""The model: the GPT itself, its tokenizers, and checkpoints on disk."""
