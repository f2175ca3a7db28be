"""The compute-and-cost panel: fleet estimate, chart, the article's claims, your own run."""
