"""What the panel needs from a model or a run folder, gathered in a worker (torch and file I/O stay off
the GUI thread): the time-lapse (or why there is none) and the untrained model's vectors for the chance
column."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.config import model_lang
from core.embeddings.frames import Frame, FramesError, Timeline, frames_for_checkpoint, read_run_frames


@dataclass
class Loaded:
    timeline: Timeline | None  # None: nothing to show (a model without entity words)
    untrained: Frame | None  # the same shape, untrained: the chance picture
    lang: str
    note: str = ""  # why there is no time-lapse ("" when there is one)


def _vectors(model, tokenizer, words, lang) -> tuple[np.ndarray, np.ndarray]:
    from core.analysis.probes import word_vectors

    tokens = model.wte.weight.detach().cpu().numpy().astype(np.float16)
    return word_vectors(model, tokenizer, words, lang), tokens


def load_checkpoint_view(checkpoint) -> Loaded:
    """The checkpoint's entity words now, its frames if it has them, and an untrained twin."""
    from core.analysis.probes import untrained_like
    from core.model.tokenizer import token_label

    meta = getattr(checkpoint, "meta", {}) or {}
    categories = meta.get("categories")
    lang = model_lang(checkpoint)
    if not isinstance(categories, dict) or not categories:
        return Loaded(None, None, lang)
    words = sorted(categories)
    tok = checkpoint.tokenizer
    labels = tuple(token_label(tok, i) for i in range(tok.vocab_size))
    step = int(meta.get("step") or 0)
    note = ""
    try:
        timeline = frames_for_checkpoint(checkpoint.path) if checkpoint.path else None
        if timeline is not None and (timeline.words != tuple(words) or timeline.token_labels != labels):
            timeline, note = None, "frames belong to another model"
    except FramesError as e:
        timeline, note = None, str(e)
    if timeline is None:
        timeline = Timeline(tuple(words), tuple(categories[w] for w in words), labels)
    # The checkpoint's own vectors, exactly (stored frames may be float16): replaces a frame of its step.
    timeline.add(step, *_vectors(checkpoint.model, tok, words, lang))
    first = timeline.frames[0]
    if first.step == 0 and len(timeline.frames) > 1:
        untrained = first  # the run's own initialisation
    else:
        seed = int(getattr(checkpoint.train_cfg, "seed", 0))
        w, t = _vectors(untrained_like(checkpoint.model, seed), tok, words, lang)
        untrained = Frame(0, w, t, 0.0)
    return Loaded(timeline, untrained, lang, note)


def load_run_view(run_dir: str) -> Loaded:
    """A run folder's time-lapse; without one, a note saying why (the run still opens)."""
    try:
        timeline = read_run_frames(run_dir)
    except FramesError as e:
        return Loaded(None, None, "", str(e))
    first = timeline.frames[0]
    lang = "en" if timeline.words and all(w.isascii() for w in timeline.words) else "zh"
    return Loaded(timeline, first if first.step == 0 else None, lang)
