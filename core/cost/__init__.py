"""Compute and money: FLOPs, GPU fleets, and the article's claims checked."""
