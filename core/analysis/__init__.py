"""What a trained model knows: coreference probes, attention views, the cloze game."""
