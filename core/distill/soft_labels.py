"""The soft labels themselves: teacher and student next-token distributions for one text, side by side, with
one temperature applied to both (the article's "猫 85 %, 垫子 15 %", as this teacher really gives it)."""

from __future__ import annotations

import numpy as np

from core.analysis.probes import fit_context
from core.model.gpt import GPT
from core.model.tokenizer import Tokenizer

ARTICLE_TEXT = "猫坐在垫子上，它很舒服。它是＿"


def prompt_of(text: str) -> str:
    """What comes before the blank (＿ or _); the whole text when there is none."""
    for mark in ("＿", "_"):
        if mark in text:
            return text[: text.index(mark)]
    return text


def next_logits(model: GPT, tok: Tokenizer, text: str) -> np.ndarray:
    """The model's next-token logits after `prompt_of(text)` (the last context window of it)."""
    import torch

    ids, _ = fit_context(tok.encode(prompt_of(text)) or [tok.unk_id], model.cfg.block_size)
    with torch.no_grad():
        was = model.training
        model.eval()
        logits = model(torch.tensor([ids], device=model.wte.weight.device)).logits[0, -1]
        model.train(was)
    return logits.float().cpu().numpy()


def softmax(logits: np.ndarray, temperature: float) -> np.ndarray:
    z = logits / max(float(temperature), 1e-3)
    e = np.exp(z - z.max())
    return e / e.sum()


def word_labels(tok: Tokenizer, categories: dict[str, str]) -> list[str]:
    """A label per token id: the world's entity a character starts (垫 → 垫子: each entity has a first
    character of its own), else the token itself."""
    starts = {w[0]: w for w in categories if w}
    out = []
    for i in range(tok.vocab_size):
        token = tok.decode([i])
        out.append(starts.get(token, token).replace("\n", "⏎") or "◌")
    return out


def rows(
    labels: list[str], teacher_logits: np.ndarray, student_logits: np.ndarray, temperature: float, n: int = 8
) -> list[tuple[str, float, float]]:
    """(word, teacher p, student p) for the tokens either model ranks in its top `n`, teacher's order.
    <unk> and [MASK] (ids 0 and 1) are never answers."""
    pt, ps = softmax(teacher_logits, temperature), softmax(student_logits, temperature)
    pt[:2] = ps[:2] = 0.0
    pt, ps = pt / pt.sum(), ps / ps.sum()
    chosen = list(dict.fromkeys([*np.argsort(-pt, kind="stable")[:n], *np.argsort(-ps, kind="stable")[:n]]))
    chosen.sort(key=lambda i: (-pt[i], -ps[i]))
    return [(labels[i], float(pt[i]), float(ps[i])) for i in chosen[:n]]
