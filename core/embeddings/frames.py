"""The time-lapse: the word vectors of every snapshot of a run, kept in memory and in the run folder.

On disk, `<run>/embeddings/` holds `meta.json` (the words, their categories and the vocabulary's token
labels, fixed for a run) and one `step_<step>.npz` per snapshot (the words' vectors, the whole token
embedding matrix in float16, and the neighbour purity), each written to a temporary name and renamed,
so a run killed mid-write leaves whole files only. A bundled model ships the same frames packed into
one `<name>.frames.npz`. Nothing here is ever unpickled: arrays of numbers and fixed-width strings."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.embeddings.vectors import neighbour_purity

FOLDER = "embeddings"
VERSION = 1


class FramesError(ValueError):
    """Frames that cannot be read (missing, truncated, from another run); one line for a person."""


@dataclass
class Frame:
    step: int
    words: np.ndarray  # (n_words, d) float32: the entity words' vectors
    tokens: np.ndarray | None  # (vocab, d) float16: every token's embedding, or None when not kept
    purity: float


@dataclass
class Timeline:
    """Every frame of one run, oldest first; words, categories and token labels are the run's."""

    words: tuple[str, ...]
    categories: tuple[str, ...]
    token_labels: tuple[str, ...] = ()
    frames: list[Frame] = field(default_factory=list)

    @property
    def steps(self) -> list[int]:
        return [f.step for f in self.frames]

    def add(self, step: int, words: np.ndarray, tokens: np.ndarray | None) -> Frame:
        """Append (or replace the frame of the same step: the final snapshot repeats the last one)."""
        frame = Frame(int(step), np.asarray(words, np.float32), _half(tokens), _purity(words, self.categories))
        if self.frames and self.frames[-1].step == frame.step:
            self.frames[-1] = frame
        else:
            self.frames.append(frame)
        return frame


def _half(tokens: np.ndarray | None) -> np.ndarray | None:
    return None if tokens is None or np.size(tokens) == 0 else np.asarray(tokens, np.float16)


def _purity(words: np.ndarray, categories: Sequence[str]) -> float:
    return neighbour_purity(words, categories) if len(categories) == len(words) else 0.0


def _atomic_write(path: Path, write) -> None:
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as f:
        write(f)
    os.replace(tmp, path)  # a reader sees the old file or the whole new one, never half of it


class FrameWriter:
    """Used by the trainer: one file per snapshot under `<run_dir>/embeddings/`."""

    def __init__(self, run_dir: str | os.PathLike, words, categories, token_labels) -> None:
        self.folder = Path(run_dir) / FOLDER
        self.folder.mkdir(parents=True, exist_ok=True)
        self.categories = tuple(categories)
        self.token_labels = tuple(token_labels)
        meta = {"version": VERSION, "words": list(words), "categories": list(categories)}
        meta["token_labels"] = list(token_labels)
        data = json.dumps(meta, ensure_ascii=False).encode("utf-8")
        _atomic_write(self.folder / "meta.json", lambda f: f.write(data))

    def write(self, step: int, words: np.ndarray, tokens: np.ndarray | None) -> Path:
        path = self.folder / f"step_{int(step):09d}.npz"
        arrays = {"step": np.int64(step), "words": np.asarray(words, np.float32)}
        arrays["purity"] = np.float64(_purity(words, self.categories))
        if tokens is not None:
            arrays["tokens"] = np.asarray(tokens, np.float16)
        _atomic_write(path, lambda f: np.savez(f, **arrays))
        return path


def _strings(values, what: str) -> tuple[str, ...]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise FramesError(f"{what} is not a list of strings")
    return tuple(values)


def _check(frame: Frame, timeline: Timeline, name: str) -> None:
    n, vocab = len(timeline.words), len(timeline.token_labels)
    if frame.words.ndim != 2 or len(frame.words) != n:
        raise FramesError(f"{name}: {len(frame.words)} word vectors for {n} words")
    if not np.isfinite(frame.words).all():
        raise FramesError(f"{name}: the vectors hold NaN or infinite values")
    if frame.tokens is not None and (frame.tokens.ndim != 2 or len(frame.tokens) != vocab):
        raise FramesError(f"{name}: {len(frame.tokens)} token vectors for {vocab} tokens")


def read_run_frames(run_dir: str | os.PathLike) -> Timeline:
    """The frames a run wrote; FramesError (naming the file) when any is missing or unreadable."""
    folder = Path(run_dir) / FOLDER
    if not (folder / "meta.json").is_file():
        raise FramesError(f"no time-lapse in {Path(run_dir).name} ({FOLDER}/meta.json is missing)")
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise FramesError(f"{FOLDER}/meta.json is unreadable: {e}") from None
    if not isinstance(meta, dict) or meta.get("version") != VERSION:
        raise FramesError(f"{FOLDER}/meta.json is not a version {VERSION} time-lapse")
    timeline = Timeline(
        _strings(meta.get("words"), "words"),
        _strings(meta.get("categories"), "categories"),
        _strings(meta.get("token_labels", []), "token_labels"),
    )
    files = sorted(folder.glob("step_*.npz"))
    if not files:
        raise FramesError(f"{FOLDER}/ holds no frames")
    for path in files:
        try:
            with np.load(path, allow_pickle=False) as z:
                tokens = z["tokens"] if "tokens" in z.files else None
                frame = Frame(int(z["step"]), z["words"].astype(np.float32), tokens, float(z["purity"]))
        except Exception as e:  # noqa: BLE001 - zip, npy and key errors all mean "this file is damaged"
            raise FramesError(f"{FOLDER}/{path.name} is unreadable ({type(e).__name__})") from None
        _check(frame, timeline, f"{FOLDER}/{path.name}")
        timeline.frames.append(frame)
    timeline.frames.sort(key=lambda f: f.step)
    return timeline


def pack(timeline: Timeline, path: str | os.PathLike) -> None:
    """All frames in one compressed .npz (a bundled model's time-lapse)."""
    arrays = {
        "version": np.int64(VERSION),
        "words": np.array(timeline.words, dtype=str),
        "categories": np.array(timeline.categories, dtype=str),
        "token_labels": np.array(timeline.token_labels, dtype=str),
        "steps": np.array(timeline.steps, np.int64),
        "purity": np.array([f.purity for f in timeline.frames], np.float64),
        "word_vectors": np.stack([f.words for f in timeline.frames]).astype(np.float16),
    }
    if timeline.frames and all(f.tokens is not None for f in timeline.frames):
        arrays["token_vectors"] = np.stack([f.tokens for f in timeline.frames]).astype(np.float16)
    _atomic_write(Path(path), lambda f: np.savez_compressed(f, **arrays))


def read_packed(path: str | os.PathLike) -> Timeline:
    """A bundled model's time-lapse; FramesError when the file is missing or damaged."""
    path = Path(path)
    if not path.is_file():
        raise FramesError(f"{path.name} is missing")
    try:
        with np.load(path, allow_pickle=False) as z:
            if int(z["version"]) != VERSION:
                raise FramesError(f"{path.name} is not a version {VERSION} time-lapse")
            timeline = Timeline(
                tuple(str(s) for s in z["words"]),
                tuple(str(s) for s in z["categories"]),
                tuple(str(s) for s in z["token_labels"]),
            )
            tokens = z["token_vectors"] if "token_vectors" in z.files else None
            vectors, steps, purity = z["word_vectors"].astype(np.float32), z["steps"], z["purity"]
            for i in range(len(steps)):
                t = tokens[i] if tokens is not None else None
                timeline.frames.append(Frame(int(steps[i]), vectors[i], t, float(purity[i])))
    except FramesError:
        raise
    except Exception as e:  # noqa: BLE001 - a truncated or foreign file, whatever the library says
        raise FramesError(f"{path.name} is unreadable ({type(e).__name__})") from None
    for frame in timeline.frames:
        _check(frame, timeline, path.name)
    if not timeline.frames:
        raise FramesError(f"{path.name} holds no frames")
    return timeline


def frames_for_checkpoint(checkpoint_path: str | os.PathLike) -> Timeline:
    """The time-lapse beside a checkpoint: `<run>/embeddings/` for a run's model.safetensors, else
    `<name>.frames.npz` beside `<name>.safetensors` (the bundled models)."""
    p = Path(checkpoint_path)
    if p.is_dir():
        return read_run_frames(p)
    if (p.parent / FOLDER / "meta.json").is_file():
        return read_run_frames(p.parent)
    return read_packed(p.with_suffix(".frames.npz"))
