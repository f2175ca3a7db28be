"""The training panel: preset form, Train / Pause / Stop, live read-outs."""
