"""Checkpoints: `<stem>.safetensors` (weights) + `<stem>.json` (configs, tokenizer, training state), and for
resumable runs `<stem>.optim.safetensors` (optimizer moments, RNG state).

A save can only succeed or leave the previous checkpoint loadable. Every file is first written complete to
a temporary name; then the current checkpoint is kept as a second generation (`<stem>.prev.*`, hard links,
so no copy) before the new files are moved into place one `os.replace` at a time, and that generation is
removed only once the new one is whole. A kill or an OSError between two moves leaves a mixed `<stem>.*`
(the JSON records the weights' and the optimizer's digests, so the mix is detected) beside a whole
`<stem>.prev.*`, and `load_checkpoint` falls back to it. Temporary files a killed save left behind are
removed by the next save (and, once they are a minute old, by the next load).

Loading never unpickles: JSON is parsed, configs are bounded, and the tensors' names and shapes in the
safetensors header are compared with the config before any weight is read or any module built; every
failure becomes one CheckpointError line."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file
from safetensors.torch import save as serialize

from core.config import ConfigError, ModelConfig, TrainConfig, from_dict, to_dict
from core.model.gpt import GPT
from core.model.tokenizer import Tokenizer, TokenizerError, tokenizer_from_dict

FORMAT = "llm-explorer-checkpoint/1"
MAX_JSON_BYTES = 20 * 1024 * 1024
MAX_HEADER_BYTES = 10 * 1024 * 1024
MAX_WEIGHTS_BYTES = 2 * 1024**3
PREVIOUS = ".prev"  # the generation kept while a save is moving files into place
STALE_TEMP_S = 60.0  # a load removes temporary files this old (a save in another process takes < 1 s)
DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2}


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
    recovered: str = ""  # why the newest save was unusable when this is the generation before it


def checkpoint_paths(path: str | os.PathLike) -> tuple[Path, Path]:
    """(weights, json) for a run folder, a .safetensors file or a .json file."""
    p = Path(path)
    if p.is_dir():
        p = p / "model.safetensors"
    stem = p.with_suffix("") if p.suffix in (".safetensors", ".json") else p
    return stem.with_suffix(".safetensors"), stem.with_suffix(".json")


def _generation(weights_path: Path) -> list[Path]:
    """The files of one checkpoint, in the order a save moves them into place (the JSON last)."""
    return [weights_path, _optim_path(weights_path), weights_path.with_suffix(".json")]


def _optim_path(weights_path: Path) -> Path:
    return weights_path.with_suffix(".optim.safetensors")


def _previous(weights_path: Path) -> Path:
    return weights_path.with_name(weights_path.stem + PREVIOUS + ".safetensors")


def save_file(tensors: dict[str, torch.Tensor], filename: str, metadata: dict | None = None) -> None:
    """safetensors' own `save_file` writes through a temporary file of its own (`.tmpXXXXXX`) that a kill
    leaves behind, outside our naming; the bytes go straight into our temporary name instead."""
    data = serialize(tensors, metadata=metadata)
    with open(filename, "wb") as f:
        f.write(data)


def run_meta(step: int, preset: str, metrics: dict, corpus, **extra) -> dict:
    """What a training run records beside its weights (the trainer's and the distiller's checkpoints)."""
    return {
        "step": step,
        "preset": preset,
        "metrics": metrics,
        "corpus": corpus.source,
        "lang": corpus.lang,
        "categories": corpus.categories,
        **extra,
        "saved_at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def save_checkpoint(
    path: str | os.PathLike,
    model: GPT,
    tokenizer: Tokenizer,
    train_cfg: TrainConfig,
    meta: dict | None = None,
    optimizer_state: dict[str, torch.Tensor] | None = None,
) -> str:
    """Write weights, optimizer state and JSON so that the folder always holds one loadable checkpoint
    (this one or the one before); returns the weights path."""
    weights_path, json_path = checkpoint_paths(path)
    if weights_path.parent.exists() and not weights_path.parent.is_dir():
        raise CheckpointError(f"{weights_path.parent}: not a folder")
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(weights_path, max_age_s=0.0)
    tensors = {
        k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items() if k != "lm_head.weight"
    }
    optim_path = _optim_path(weights_path)
    staged: list[tuple[str, Path]] = []
    try:
        tmp = _temp_for(weights_path)
        staged.append((tmp, weights_path))
        save_file(tensors, tmp, metadata={"format": FORMAT})
        doc = {"format": FORMAT, "weights_sha256": _sha256(tmp)}
        if optimizer_state is not None:
            tmp = _temp_for(optim_path)
            staged.append((tmp, optim_path))
            save_file(optimizer_state, tmp)
            doc["optimizer_sha256"] = _sha256(tmp)
        doc.update(
            model_config=to_dict(model.cfg),
            train_config=to_dict(train_cfg),
            tokenizer=tokenizer.to_dict(),
            meta=meta or {},
        )
        tmp = _temp_for(json_path)
        staged.append((tmp, json_path))
        Path(tmp).write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
        for tmp, _ in staged:
            _fsync(tmp)
        _keep_previous(weights_path)
        if optimizer_state is None:  # an old optimizer file must not pass for this save's
            optim_path.unlink(missing_ok=True)
        for tmp, final in staged:
            os.replace(tmp, final)
    finally:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
    try:  # the new checkpoint is whole: the one kept beside it can go (or the next save removes it)
        for old in _generation(_previous(weights_path))[::-1]:
            old.unlink(missing_ok=True)
    except OSError:
        pass
    return str(weights_path)


def _keep_previous(weights_path: Path) -> None:
    """Make `<stem>.prev.*` the current checkpoint before anything of it is replaced. If the current one
    is not whole (an earlier save was interrupted mid-move), the `.prev` it fell back to is kept instead."""
    previous = _previous(weights_path)
    if not _is_whole(weights_path):
        return
    for old in _generation(previous)[::-1]:
        old.unlink(missing_ok=True)
    for src, dst in zip(_generation(weights_path), _generation(previous), strict=True):
        if src.is_file():
            try:
                os.link(src, dst)
            except OSError:  # a file system without hard links: copy instead
                shutil.copyfile(src, dst)


def _is_whole(weights_path: Path) -> bool:
    """Weights (and optimizer state) are the ones the JSON records: a cheap check, no tensor is read."""
    json_path = weights_path.with_suffix(".json")
    try:
        doc = json.loads(json_path.read_text("utf-8"))
        if not weights_path.is_file() or _sha256(weights_path) != doc.get(
            "weights_sha256", _sha256(weights_path)
        ):
            return False
        optim = _optim_path(weights_path)
        digest = doc.get("optimizer_sha256")
        return digest is None or (optim.is_file() and _sha256(optim) == digest)
    except (OSError, ValueError, AttributeError):
        return False


def remove_stale_temporaries(weights_path: Path, max_age_s: float = STALE_TEMP_S) -> None:
    """Delete the temporary files of this checkpoint's saves (`<name>.<random>.tmp`) older than `max_age_s`."""
    names = [p.name for p in _generation(weights_path) + _generation(_previous(weights_path))]
    now = time.time()
    try:
        found = list(weights_path.parent.glob("*.tmp"))
    except OSError:
        return
    for tmp in found:
        try:
            if tmp.name.rsplit(".", 2)[0] in names and now - tmp.stat().st_mtime >= max_age_s:
                tmp.unlink()
        except OSError:  # a read-only folder (the bundled models), or removed meanwhile
            pass


def load_checkpoint(path: str | os.PathLike, with_optimizer: bool = False) -> Checkpoint:
    """Load and validate; the model comes back in eval mode on the CPU. When the newest files do not
    form a checkpoint and an interrupted save left the generation before them, that one is loaded."""
    p = Path(path)
    if p.is_dir() and not (p / "model.safetensors").exists() and not (p / "model.json").exists():
        kind = "a folder named like a weights file" if p.suffix in (".safetensors", ".json") else "a folder"
        raise CheckpointError(f"{p.name or p}: {kind}, with no model.safetensors or model.json inside")
    weights_path, json_path = checkpoint_paths(path)
    remove_stale_temporaries(weights_path)
    try:
        return _load(weights_path, json_path, with_optimizer)
    except CheckpointError as newest:
        previous = _previous(weights_path)
        if PREVIOUS in weights_path.name or not previous.with_suffix(".json").is_file():
            raise
        try:
            ckpt = _load(previous, previous.with_suffix(".json"), with_optimizer)
        except CheckpointError:
            raise newest from None
        ckpt.recovered = str(newest)
        return ckpt


def _load(weights_path: Path, json_path: Path, with_optimizer: bool) -> Checkpoint:
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
    header = read_header(weights_path)  # names, shapes and dtypes only: no weight is read yet
    expected = expected_shapes(model_cfg)
    needed = sum(_numel(shape) for shape in expected.values())
    size = weights_path.stat().st_size
    if needed * min(DTYPE_BYTES.values()) > size:
        raise CheckpointError(
            f"{name}: {json_path.name} describes a model of {needed:,} parameters, "
            f"more than this {size:,}-byte file can hold"
        )
    _check_header(name, json_path.name, header, expected)
    tensors = read_safetensors(weights_path)
    for key in expected:
        if not torch.isfinite(tensors[key]).all():
            raise CheckpointError(f"{name}: {key} contains NaN or infinite values")
    digest = doc.get("weights_sha256")
    if digest is not None and _sha256(weights_path) != digest:
        raise CheckpointError(
            f"{name}: weights and {json_path.name} do not belong together (an interrupted save?)"
        )
    model = GPT(model_cfg)
    tensors["lm_head.weight"] = tensors["wte.weight"]
    model.load_state_dict({k: v.float() for k, v in tensors.items()})
    model.eval()
    meta = doc.get("meta") if isinstance(doc.get("meta"), dict) else {}
    optim_path = _optim_path(weights_path)
    optimizer_state = {}
    if with_optimizer and optim_path.exists():
        optim_digest = doc.get("optimizer_sha256")
        if optim_digest is not None and _sha256(optim_path) != optim_digest:
            raise CheckpointError(
                f"{optim_path.name}: optimizer state and {json_path.name} do not belong together"
            )
        optimizer_state = read_safetensors(optim_path)
    return Checkpoint(model, tokenizer, model_cfg, train_cfg, meta, str(weights_path), optimizer_state)


def expected_shapes(cfg: ModelConfig) -> dict[str, tuple[int, ...]]:
    """Every saved tensor's name and shape for this config, worked out without building anything (a module
    on the `meta` device took 7 s for a 2-billion-parameter config). A test compares it with GPT's own
    state_dict, so the two cannot drift apart."""
    C, V = cfg.n_embd, cfg.vocab_size
    shapes: dict[str, tuple[int, ...]] = {"wte.weight": (V, C), "wpe.weight": (cfg.block_size, C)}
    for i in range(cfg.n_layer):
        for name, shape in (
            ("ln_1.weight", (C,)),
            ("ln_1.bias", (C,)),
            ("attn.qkv.weight", (3 * C, C)),
            ("attn.qkv.bias", (3 * C,)),
            ("attn.proj.weight", (C, C)),
            ("attn.proj.bias", (C,)),
            ("ln_2.weight", (C,)),
            ("ln_2.bias", (C,)),
            ("mlp.fc.weight", (4 * C, C)),
            ("mlp.fc.bias", (4 * C,)),
            ("mlp.proj.weight", (C, 4 * C)),
            ("mlp.proj.bias", (C,)),
        ):
            shapes[f"blocks.{i}.{name}"] = shape
    shapes["ln_f.weight"] = (C,)
    shapes["ln_f.bias"] = (C,)
    return shapes


def _check_header(name: str, json_name: str, header: dict, expected: dict[str, tuple[int, ...]]) -> None:
    """Refuse a weights file whose tensors are not those of the config, before any weight is read."""
    missing = sorted(set(expected) - set(header))
    unexpected = sorted(set(header) - set(expected))
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing, e.g. {', '.join(missing[:3])}")
        if unexpected:
            parts.append(f"{len(unexpected)} not in this architecture, e.g. {', '.join(unexpected[:3])}")
        raise CheckpointError(
            f"{name}: weights do not match the architecture in {json_name} ({'; '.join(parts)})"
        )
    for key, shape in expected.items():
        if tuple(header[key]["shape"]) != shape:
            raise CheckpointError(f"{name}: {key} has shape {tuple(header[key]['shape'])}, expected {shape}")
        if header[key]["dtype"] not in DTYPE_BYTES:
            raise CheckpointError(f"{name}: {key} is stored as {header[key]['dtype']}, not a float type")


def read_header(path: Path) -> dict[str, dict]:
    """The safetensors header ({name: {dtype, shape, data_offsets}}), checked against the file's size:
    a header that claims more bytes than the file holds is refused here."""
    size = _check_file(path)
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise CheckpointError(f"{path.name}: truncated (no safetensors header)")
        (header_len,) = struct.unpack("<Q", head)
        if header_len > MAX_HEADER_BYTES or 8 + header_len > size:
            raise CheckpointError(f"{path.name}: corrupt or truncated safetensors header")
        raw = f.read(header_len)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CheckpointError(f"{path.name}: corrupt safetensors header (not JSON)") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path.name}: corrupt safetensors header")
    header.pop("__metadata__", None)
    data_bytes = size - 8 - header_len
    total = 0
    for key, entry in header.items():
        shape = entry.get("shape") if isinstance(entry, dict) else None
        if not (
            isinstance(shape, list)
            and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)
            and isinstance(entry.get("dtype"), str)
        ):
            raise CheckpointError(f"{path.name}: corrupt safetensors header entry for {key[:60]!r}")
        total += _numel(shape) * DTYPE_BYTES.get(entry["dtype"], 1)
    if total > data_bytes:
        raise CheckpointError(
            f"{path.name}: the header describes {total:,} bytes of tensors but the file holds {data_bytes:,}"
        )
    return header


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
    """Check the header against the file before handing it to safetensors."""
    read_header(path)
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


def _check_file(path: Path) -> int:
    if path.is_dir():
        raise CheckpointError(f"{path.name}: a folder, not a weights file")
    if not path.is_file():
        raise CheckpointError(f"{path.name}: file not found")
    size = path.stat().st_size
    if size > MAX_WEIGHTS_BYTES:
        raise CheckpointError(f"{path.name}: {size / 1e9:.1f} GB is too large for this application")
    return size


def _numel(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _fsync(path: str) -> None:
    """Flush a staged file to the disk, so a power cut after the move cannot leave it empty."""
    with open(path, "rb") as f:
        os.fsync(f.fileno())


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
