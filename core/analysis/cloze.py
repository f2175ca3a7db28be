"""The article's fill-in-the-blank game (完形填空), honestly scored, and sampling with a temperature.

A blank (＿ or _) can sit anywhere, so "the most likely next token" is not the answer: each candidate word
is put into the blank and the *whole sentence* is scored. The masked model predicts the blank directly
(the candidate's tokens are masked and restored left to right); the causal model reads each completed
sentence and adds up the log-probability of every token. Probabilities are then normalised over the
candidates, which is what the game asks: of these words, which fits?"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from core.analysis.probes import fit_context, forward_eval, next_token_probs
from core.model.gpt import GPT
from core.model.tokenizer import SPECIALS, Tokenizer

BLANKS = ("＿", "_")
MODEL_TOP_TOKENS = 5  # the model's own top single tokens join the candidate list
MAX_CANDIDATES = 200
SUFFIX_KEEP = 4  # tokens after the blank kept when the sentence is longer than the context


@dataclass(frozen=True)
class BlankScores:
    """Every candidate's total log-probability (natural log) for the completed sentence."""

    words: tuple[str, ...]
    logprobs: np.ndarray  # (n,) float64, one per word
    dropped: int  # tokens left out because the sentence is longer than the context
    objective: str  # "causal" or "masked": how the scores were made


def find_blank(text: str) -> int:
    """Index of the first blank character, or -1."""
    hits = [i for i in (text.find(b) for b in BLANKS) if i >= 0]
    return min(hits) if hits else -1


def entity_words(lang: str = "zh") -> list[str]:
    """The world corpus's nouns in the form they take in a sentence (no leading space; see fill_blank)."""
    from core.data import world

    i = 0 if lang == "zh" else 1
    groups = (world.ANIMALS, world.SEATS, world.OBJECTS, world.FOODS, world.PLACES)
    return [row[i] for group in groups for row in group]


def apply_temperature(logits: np.ndarray | torch.Tensor, temperature: float) -> np.ndarray:
    """softmax(logits / T): T < 1 sharpens, T > 1 flattens, T → 0 becomes argmax."""
    x = np.asarray(logits, dtype=np.float64) / max(float(temperature), 1e-4)
    x = x - x.max()
    p = np.exp(x)
    return p / p.sum()


def entropy(probs: np.ndarray | torch.Tensor) -> float:
    """Shannon entropy in nats: 0 when certain, log(n) when all n choices are equally likely."""
    p = np.asarray(probs, dtype=np.float64)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def _model_top_tokens(model: GPT, tok: Tokenizer, prefix: str, suffix: str, n: int) -> list[str]:
    """The model's own favourite single tokens at the blank (never specials or bare whitespace): the
    masked model sees both sides of a [MASK]; the causal model only what comes before."""
    if model.cfg.objective == "masked":
        ids = tok.encode(prefix) + [tok.mask_id] + tok.encode(suffix)
        pos = len(tok.encode(prefix))
        ids, dropped = fit_context(ids, model.cfg.block_size)
        if pos < dropped:
            return []
        probs = torch.softmax(forward_eval(model, ids).logits[0, pos - dropped], -1)
    else:
        probs = next_token_probs(model, tok, prefix)
    out: list[str] = []
    for i in probs.topk(min(4 * n, probs.numel())).indices.tolist():
        if i < len(SPECIALS):
            continue
        text = tok.decode([i])
        if text.strip() and "\ufffd" not in text and text not in out:
            out.append(text.strip())
        if len(out) >= n:
            break
    return out


def _candidates(model: GPT, tok: Tokenizer, prefix: str, suffix: str, candidates, lang: str) -> list[str]:
    if candidates is None:
        words = entity_words(lang) + _model_top_tokens(model, tok, prefix, suffix, MODEL_TOP_TOKENS)
    else:
        words = [str(c).strip() for c in candidates]
    words = [w for w in dict.fromkeys(words) if w and find_blank(w) < 0]
    if not words:
        raise ValueError("no candidate words to put in the blank")
    return words[:MAX_CANDIDATES]


def _fill(prefix: str, word: str, suffix: str, lang: str) -> tuple[str, tuple[int, int]]:
    """The completed sentence and the word's character span. English words get the space they need."""
    if lang == "en" and prefix and not prefix[-1].isspace():
        word = " " + word
    return prefix + word + suffix, (len(prefix), len(prefix) + len(word))


def _window(n: int, first: int, last: int, block: int) -> tuple[int, int]:
    """[s, e) of at most `block` tokens holding the candidate's tokens [first, last]: a few tokens after
    the blank are kept, the rest of the budget goes to what comes before it."""
    e = min(n, max(block, last + 1 + SUFFIX_KEEP))
    s = max(0, e - block)
    if first < s:  # a candidate longer than the context: keep its start
        s, e = first, min(n, first + block)
    return s, e


def score_blank(
    model: GPT, tok: Tokenizer, text: str, candidates: Sequence[str] | None = None, lang: str = "zh"
) -> BlankScores:
    """Total log-probability of the sentence with each candidate in the blank (see module docstring)."""
    pos = find_blank(text)
    if pos < 0:
        raise ValueError("no blank in the text: mark it with ＿ or _")
    end = pos
    while end < len(text) and text[end] in BLANKS:  # "__" or "＿＿" is still one blank
        end += 1
    prefix, suffix = text[:pos], text[end:]
    if find_blank(suffix) >= 0:
        raise ValueError("only one blank at a time")
    words = _candidates(model, tok, prefix, suffix, candidates, lang)
    masked = model.cfg.objective == "masked"
    bos = "" if masked or tok.id_of("\n") is None else "\n"  # the corpus starts each sentence after a newline
    items = []  # (word index, ids, candidate token positions)
    dropped = 0
    for k, word in enumerate(words):
        full, (a, b) = _fill(bos + prefix, word, suffix, lang)
        ids, offsets = tok.encode_with_offsets(full)
        span = [i for i, (x, y) in enumerate(offsets) if x < b and y > a]
        if not span:
            continue
        s, e = _window(len(ids), span[0], span[-1], model.cfg.block_size)
        dropped = max(dropped, len(ids) - (e - s))
        items.append((k, ids[s:e], [i - s for i in span if s <= i < e]))
    logprobs = np.full(len(words), -np.inf)
    score = _score_masked if masked else _score_causal
    for k, value in score(model, tok, items):
        logprobs[k] = value
    keep = np.isfinite(logprobs)
    return BlankScores(
        tuple(w for w, ok in zip(words, keep, strict=True) if ok),
        logprobs[keep],
        dropped,
        model.cfg.objective,
    )


def _by_length(items):
    groups: dict[int, list] = {}
    for item in items:
        groups.setdefault(len(item[1]), []).append(item)
    return groups.values()


@torch.no_grad()
def _score_causal(model: GPT, tok: Tokenizer, items):
    """log P(sentence) = Σ_t log P(token_t | tokens before t), one batched forward per length."""
    for group in _by_length(items):
        x = torch.tensor([ids for _, ids, _ in group], dtype=torch.long)
        logp = torch.log_softmax(_forward(model, x), dim=-1)  # (B, T, V)
        token_lp = logp[:, :-1].gather(-1, x[:, 1:, None])[..., 0]  # (B, T-1)
        for (k, _, _), row in zip(group, token_lp.sum(-1).tolist(), strict=True):
            yield k, row


@torch.no_grad()
def _score_masked(model: GPT, tok: Tokenizer, items):
    """Mask the candidate's tokens, then restore them left to right, adding log P of each true token."""
    for group in _by_length(items):
        x = torch.tensor([ids for _, ids, _ in group], dtype=torch.long)
        spans = [span for _, _, span in group]
        for row, span in enumerate(spans):
            x[row, span] = tok.mask_id
        total = torch.zeros(len(group), dtype=torch.float64)
        for j in range(max(len(s) for s in spans)):
            logp = torch.log_softmax(_forward(model, x), dim=-1)
            for row, (_, ids, span) in enumerate(group):
                if j < len(span):
                    p = span[j]
                    total[row] += float(logp[row, p, ids[p]])
                    x[row, p] = ids[p]
        for (k, _, _), value in zip(group, total.tolist(), strict=True):
            yield k, value


def _forward(model: GPT, x: torch.Tensor) -> torch.Tensor:
    was_training = model.training
    model.eval()
    try:
        return model(x).logits.float()
    finally:
        model.train(was_training)


def fill_blank(
    model: GPT,
    tokenizer: Tokenizer,
    text: str,
    candidates: Sequence[str] | None = None,
    top: int = 10,
    temperature: float = 1.0,
    lang: str = "zh",
) -> list[tuple[str, float]]:
    """Candidates ranked by the model's score of the whole sentence, as probabilities over the candidates.

    Default candidates: the world's nouns plus the model's own top single tokens at the blank — so a word
    the model likes but we did not think of can still win, and a word that does not fit is still scored."""
    scores = score_blank(model, tokenizer, text, candidates, lang)
    probs = apply_temperature(scores.logprobs, temperature)
    order = np.argsort(-probs, kind="stable")[: max(1, top)]
    return [(scores.words[i], float(probs[i])) for i in order]


def _shown_piece(tok: Tokenizer, ids: list[int], shown: str) -> str:
    """Whole characters completed by the last id (BPE may split a character: then "")."""
    text = tok.decode(ids)
    while text.endswith("\ufffd"):
        text = text[:-1]
    return text[len(shown) :] if text.startswith(shown) else text[-1:]


@torch.no_grad()
def generate(
    model: GPT,
    tok: Tokenizer,
    prompt: str,
    n: int = 20,
    temperature: float = 1.0,
    top_k: int = 0,
    seed: int = 0,
) -> list[tuple[str, float]]:
    """Sample n tokens after `prompt`. Each comes with the probability the model (at T = 1) gave it, so a
    high temperature shows up as unlikely, reddish tokens. The masked model fills a [MASK] after the text."""
    gen = torch.Generator().manual_seed(int(seed))
    ids = tok.encode(prompt) or ([tok.id_of("\n")] if tok.id_of("\n") is not None else [tok.unk_id])
    masked = model.cfg.objective == "masked"
    block = model.cfg.block_size - (1 if masked else 0)
    out: list[tuple[str, float]] = []
    new: list[int] = []
    shown = ""
    for _ in range(max(0, int(n))):
        window = ids[-block:] + ([tok.mask_id] if masked else [])
        logits = forward_eval(model, window).logits[0, -1].double()
        logits[: len(SPECIALS)] = -math.inf  # never sample <unk> or [MASK]
        base = torch.softmax(logits, -1)
        scaled = logits / max(float(temperature), 1e-4)
        if top_k and 0 < top_k < scaled.numel():
            cut = scaled.topk(int(top_k)).values[-1]
            scaled = scaled.masked_fill(scaled < cut, -math.inf)
        choice = int(torch.multinomial(torch.softmax(scaled, -1), 1, generator=gen))
        ids.append(choice)
        new.append(choice)
        piece = _shown_piece(tok, new, shown)
        shown += piece
        out.append((piece, float(base[choice])))
    return out
