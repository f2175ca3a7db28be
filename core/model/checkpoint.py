"""Checkpoints: `<stem>.safetensors` (weights) + `<stem>.json` (configs, tokenizer, training state), and for
resumable runs `<stem>.optim.safetensors` (optimizer moments, RNG state). Every file is written to a
temporary name and moved into place with `os.replace`, so a crash mid-write leaves the old one intact.
Loading never unpickles: JSON is parsed, configs are bounded before any tensor is allocated, and every
failure becomes one CheckpointError line."""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from core.config import ConfigError, ModelConfig, TrainConfig, from_dict, to_dict
from core.model.gpt import GPT
from core.model.tokenizer import Tokenizer, TokenizerError, tokenizer_from_dict

FORMAT = "llm-explorer-checkpoint/1"
MAX_JSON_BYTES = 20 * 1024 * 1024
MAX_HEADER_BYTES = 10 * 1024 * 1024
MAX_WEIGHTS_BYTES = 2 * 1024**3


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message names the file and the problem in one line."""


@dataclass
class Checkpoint:
    model: GPT  # in eval mode
    tokenizer: Tokenizer
    model_cfg: ModelConfig
    train_cfg: TrainConfig
    meta: dict = field(default_factory=dict)  # step, metrics, corpus, preset, …
    path: str = ""
    optimizer_state: dict[str, torch.Tensor] = field(default_factory=dict)  # for an exact resume


def checkpoint_paths(path: str | os.PathLike) -> tuple[Path, Path]:
    """(weights, json) for a run folder, a .safetensors file or a .json file."""
    p = Path(path)
    if p.is_dir():
        p = p / "model.safetensors"
    stem = p.with_suffix("") if p.suffix in (".safetensors", ".json") else p
    return stem.with_suffix(".safetensors"), stem.with_suffix(".json")


def save_checkpoint(
    path: str | os.PathLike,
    model: GPT,
    tokenizer: Tokenizer,
    train_cfg: TrainConfig,
    meta: dict | None = None,
    optimizer_state: dict[str, torch.Tensor] | None = None,
) -> str:
    """Write weights, optimizer state and JSON atomically; returns the weights path.

    All temporary files are complete before any is moved into place, and the JSON records the weights'
    digest, so a save interrupted between two moves is detected on load instead of mixing two runs."""
    weights_path, json_path = checkpoint_paths(path)
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {
        k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items() if k != "lm_head.weight"
    }
    staged: list[tuple[str, Path]] = []
    try:
        tmp = _temp_for(weights_path)
        staged.append((tmp, weights_path))
        save_file(tensors, tmp, metadata={"format": FORMAT})
        if optimizer_state is not None:
            tmp = _temp_for(weights_path.with_suffix(".optim.safetensors"))
            staged.append((tmp, weights_path.with_suffix(".optim.safetensors")))
            save_file(optimizer_state, tmp)
        doc = {
            "format": FORMAT,
            "weights_sha256": _sha256(staged[0][0]),
            "model_config": to_dict(model.cfg),
            "train_config": to_dict(train_cfg),
            "tokenizer": tokenizer.to_dict(),
            "meta": meta or {},
        }
        tmp = _temp_for(json_path)
        staged.append((tmp, json_path))
        Path(tmp).write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
        for tmp, final in staged:
            os.replace(tmp, final)
    finally:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
    return str(weights_path)


def load_checkpoint(path: str | os.PathLike, with_optimizer: bool = False) -> Checkpoint:
    """Load and validate; the model comes back in eval mode on the CPU."""
    weights_path, json_path = checkpoint_paths(path)
    name = weights_path.name
    doc = read_checkpoint_json(json_path)
    try:
        model_cfg = from_dict(ModelConfig, doc.get("model_config"))
        train_cfg = from_dict(TrainConfig, doc.get("train_config", {}))
        tokenizer = tokenizer_from_dict(doc.get("tokenizer"))
    except (ConfigError, TokenizerError) as e:
        raise CheckpointError(f"{json_path.name}: {e}") from None
    if tokenizer.vocab_size != model_cfg.vocab_size:
        raise CheckpointError(f"{json_path.name}: tokenizer and model disagree on the vocabulary size")
    tensors = read_safetensors(weights_path)
    model = GPT(model_cfg)
    expected = {k: v.shape for k, v in model.state_dict().items() if k != "lm_head.weight"}
    if set(tensors) != set(expected):
        missing = sorted(set(expected) - set(tensors))[:3]
        raise CheckpointError(f"{name}: weights do not match this architecture (missing {missing or 'none'})")
    for key, shape in expected.items():
        if tensors[key].shape != shape:
            raise CheckpointError(
                f"{name}: {key} has shape {tuple(tensors[key].shape)}, expected {tuple(shape)}"
            )
        if not torch.isfinite(tensors[key]).all():
            raise CheckpointError(f"{name}: {key} contains NaN or infinite values")
    # Last: the specific problems above say more than a digest mismatch would.
    digest = doc.get("weights_sha256")
    if digest is not None and _sha256(weights_path) != digest:
        raise CheckpointError(
            f"{name}: weights and {json_path.name} do not belong together (an interrupted save?)"
        )
    tensors["lm_head.weight"] = tensors["wte.weight"]
    model.load_state_dict(tensors)
    model.eval()
    meta = doc.get("meta") if isinstance(doc.get("meta"), dict) else {}
    optim_path = weights_path.with_suffix(".optim.safetensors")
    optimizer_state = read_safetensors(optim_path) if with_optimizer and optim_path.exists() else {}
    return Checkpoint(model, tokenizer, model_cfg, train_cfg, meta, str(weights_path), optimizer_state)


def read_checkpoint_json(json_path: Path) -> dict:
    if not json_path.is_file():
        raise CheckpointError(f"{json_path.name}: file not found next to the weights")
    if json_path.stat().st_size > MAX_JSON_BYTES:
        raise CheckpointError(f"{json_path.name}: too large to be a checkpoint description")
    try:
        doc = json.loads(json_path.read_text("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{json_path.name}: not valid JSON ({e.__class__.__name__})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise CheckpointError(f"{json_path.name}: not an LLM Explorer checkpoint")
    return doc


def read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    """Check the header length against the file before handing it to safetensors."""
    if not path.is_file():
        raise CheckpointError(f"{path.name}: file not found")
    size = path.stat().st_size
    if size > MAX_WEIGHTS_BYTES:
        raise CheckpointError(f"{path.name}: {size / 1e9:.1f} GB is too large for this application")
    with open(path, "rb") as f:
        head = f.read(8)
    if len(head) < 8:
        raise CheckpointError(f"{path.name}: truncated (no safetensors header)")
    (header_len,) = struct.unpack("<Q", head)
    if header_len > MAX_HEADER_BYTES or 8 + header_len > size:
        raise CheckpointError(f"{path.name}: corrupt or truncated safetensors header")
    try:
        with safe_open(str(path), framework="pt") as f:  # validates offsets against the file
            keys = list(f.keys())
        tensors = load_file(str(path))
    except Exception as e:  # safetensors raises its own error types for every malformed file
        raise CheckpointError(
            f"{path.name}: unreadable safetensors file ({str(e).splitlines()[0][:120]})"
        ) from None
    if set(tensors) != set(keys):
        raise CheckpointError(f"{path.name}: inconsistent safetensors file")
    return tensors


def _temp_for(path: Path) -> str:
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    return tmp


def _sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
