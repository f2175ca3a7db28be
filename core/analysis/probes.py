"""What the model has measurably learned, on held-out probes: behavioural coreference, attention
coreference per layer × head, embedding neighbourhoods, the cloze. Every score comes with its chance
level so the app can put the untrained baseline beside it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import torch

from core.data.corpus import ClozeCheck, CorefProbe
from core.model.gpt import GPT
from core.model.tokenizer import Tokenizer


@torch.no_grad()
def forward_eval(model: GPT, ids: Sequence[int], need_attn: bool = False):
    """One sequence through the model in eval mode; restores the previous mode."""
    was_training = model.training
    model.eval()
    try:
        x = torch.tensor([list(ids)], dtype=torch.long, device=model.wte.weight.device)
        return model(x, need_attn=need_attn)
    finally:
        model.train(was_training)


def fit_context(ids: list[int], block_size: int) -> tuple[list[int], int]:
    """Keep the last window that fits; returns the ids and how many tokens were dropped from the front."""
    dropped = max(0, len(ids) - block_size)
    return ids[dropped:], dropped


def answer_token(tok: Tokenizer, text: str, answer: str) -> int:
    """The first token of `answer` as the model would see it right after `text`."""
    prefix = tok.encode(text)
    full = tok.encode(text + answer)
    return full[len(prefix)] if len(full) > len(prefix) else tok.unk_id


def span_tokens(offsets: Sequence[tuple[int, int]], span: tuple[int, int]) -> list[int]:
    """Indices of the tokens that overlap the character span."""
    start, end = span
    return [i for i, (a, b) in enumerate(offsets) if a < end and b > start]


def _probe_inputs(model: GPT, tok: Tokenizer, probe: CorefProbe):
    """Token ids, the query position, and token indices of antecedent, distractor and pronoun."""
    ids, offsets = tok.encode_with_offsets(probe.text)
    if model.cfg.objective == "masked":
        ids = ids + [tok.mask_id]
        offsets = offsets + [(len(probe.text), len(probe.text))]
    ids, dropped = fit_context(ids, model.cfg.block_size)
    offsets = offsets[dropped:]
    return (
        ids,
        len(ids) - 1,
        span_tokens(offsets, probe.antecedent_span),
        span_tokens(offsets, probe.distractor_span),
        span_tokens(offsets, probe.pronoun_span),
    )


@torch.no_grad()
def _probe_forwards(model: GPT, tok: Tokenizer, probes: Sequence[CorefProbe]):
    """Yield (probe, logits at the query, attention (L, H, T, T), query, antecedent, distractor, pronoun
    token indices) for each probe; probes of equal token length share one batched forward pass."""
    by_length: dict[int, list] = defaultdict(list)
    for probe in probes:
        inputs = _probe_inputs(model, tok, probe)
        by_length[len(inputs[0])].append((probe, inputs))
    was_training = model.training
    model.eval()
    try:
        for group in by_length.values():
            x = torch.tensor(
                [inputs[0] for _, inputs in group], dtype=torch.long, device=model.wte.weight.device
            )
            out = model(x, need_attn=True)
            att = torch.stack(out.attentions, dim=1).cpu().numpy()  # (B, L, H, T, T)
            for b, (probe, (_, query, ante, dist, pron)) in enumerate(group):
                yield probe, out.logits[b, query], att[b], query, ante, dist, pron
    finally:
        model.train(was_training)


def _antecedent_wins(att: np.ndarray, query: int, ante: list[int], dist: list[int]) -> np.ndarray:
    """(L, H) attention from `query` on the antecedent's tokens minus that on the distractor's."""
    row = att[:, :, query, :]
    return row[:, :, ante].sum(-1) - row[:, :, dist].sum(-1)


def coref_metrics(model: GPT, tok: Tokenizer, probes: Sequence[CorefProbe]) -> dict[str, float | str]:
    """Behavioural and attention coreference on held-out probes.

    coref_acc: the antecedent is the single most likely token at the answer position (…它是 → 猫).
    coref_pairwise: P(antecedent) > P(distractor) — weaker: knowing categories alone passes it.
    attn_coref_*: share of probes where attention from the answer position weighs the antecedent's
    tokens above the distractor's; for the masked model also from the pronoun itself.
    attn_coref_mean_animal / _seat: the mean-of-heads score on the probes whose antecedent is the animal
    (很舒服) / the seat (很软). Heads that look for one category of noun whatever the predicate says
    score near 1 on one kind and near 0 on the other, which the overall share (≈ 0.5) alone hides."""
    if not probes:
        return {}
    L, H = model.cfg.n_layer, model.cfg.n_head
    top1 = pairwise = 0
    head_wins = np.zeros((L, H))
    mean_wins = 0
    kind_wins = {True: 0, False: 0}  # antecedent is the animal / the seat
    kind_n = {True: 0, False: 0}
    pronoun_wins = np.zeros((L, H))
    pronoun_mean_wins = 0
    masked = model.cfg.objective == "masked"
    for probe, logits, att, query, ante, dist, pron in _probe_forwards(model, tok, probes):
        good = answer_token(tok, probe.text, probe.answer)
        bad = answer_token(tok, probe.text, probe.distractor_answer)
        top1 += int(logits.argmax().item() == good)
        pairwise += int(logits[good] > logits[bad])
        if ante and dist:
            diff = _antecedent_wins(att, query, ante, dist)
            head_wins += diff > 0
            win = bool(diff.mean() > 0)
            mean_wins += win
            kind_wins[probe.antecedent_is_animal] += win
            kind_n[probe.antecedent_is_animal] += 1
            if masked and pron:
                pdiff = _antecedent_wins(att, pron[0], ante, dist)
                pronoun_wins += pdiff > 0
                pronoun_mean_wins += pdiff.mean() > 0
    n = len(probes)
    best = np.unravel_index(np.argmax(head_wins), head_wins.shape)
    result: dict[str, float | str] = {
        "coref_acc": top1 / n,
        "coref_pairwise": pairwise / n,
        "coref_chance": 1.0 / 2.0,  # two nouns in each probe sentence
        "attn_coref_mean": float(mean_wins / n),
        "attn_coref_best": float(head_wins[best] / n),
        "attn_coref_best_head": f"L{best[0] + 1}H{best[1] + 1}",
        "attn_chance": 0.5,
    }
    for animal, name in ((True, "animal"), (False, "seat")):
        if kind_n[animal]:
            result[f"attn_coref_mean_{name}"] = float(kind_wins[animal] / kind_n[animal])
    if masked:
        pbest = np.unravel_index(np.argmax(pronoun_wins), pronoun_wins.shape)
        result["attn_pronoun_mean"] = float(pronoun_mean_wins / n)
        result["attn_pronoun_best"] = float(pronoun_wins[pbest] / n)
        result["attn_pronoun_best_head"] = f"L{pbest[0] + 1}H{pbest[1] + 1}"
    return result


def head_scores(model: GPT, tok: Tokenizer, probes: Sequence[CorefProbe]) -> np.ndarray:
    """(L, H) share of probes on which each head at the answer position prefers the antecedent."""
    wins = np.zeros((model.cfg.n_layer, model.cfg.n_head))
    for _, _, att, query, ante, dist, _ in _probe_forwards(model, tok, probes):
        if ante and dist:
            wins += _antecedent_wins(att, query, ante, dist) > 0
    return wins / max(1, len(probes))


def word_vectors(model: GPT, tok: Tokenizer, words: Sequence[str], lang: str) -> np.ndarray:
    """One vector per word: the mean of its tokens' (tied) embeddings, as the word appears mid-sentence."""
    emb = model.wte.weight.detach()
    rows = []
    for word in words:
        ids = tok.encode(word if lang == "zh" else " " + word) or [tok.unk_id]
        rows.append(emb[ids].mean(0).cpu().numpy())
    return np.stack(rows).astype(np.float32)


def neighbor_purity(vectors: np.ndarray, categories: Sequence[str]) -> tuple[float, float]:
    """Share of words whose cosine-nearest other word is in the same category, and that share by chance."""
    v = vectors / (np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-8)
    sim = v @ v.T
    np.fill_diagonal(sim, -np.inf)
    nearest = sim.argmax(1)
    cats = np.asarray(categories)
    purity = float((cats[nearest] == cats).mean())
    counts = defaultdict(int)
    for c in cats:
        counts[c] += 1
    n = len(cats)
    chance = float(np.mean([(counts[c] - 1) / (n - 1) for c in cats])) if n > 1 else 0.0
    return purity, chance


@torch.no_grad()
def next_token_probs(model: GPT, tok: Tokenizer, text: str, temperature: float = 1.0) -> torch.Tensor:
    """P(next token | text) for the causal model; P(token at a [MASK] appended to text) for the masked one."""
    ids = tok.encode(text)
    if model.cfg.objective == "masked":
        ids = ids + [tok.mask_id]
    ids, _ = fit_context(ids or [tok.unk_id], model.cfg.block_size)
    logits = forward_eval(model, ids).logits[0, -1].cpu()
    return torch.softmax(logits / max(temperature, 1e-4), dim=-1)


def cloze_metrics(model: GPT, tok: Tokenizer, checks: Sequence[ClozeCheck]) -> dict[str, float]:
    """For each prompt: share of the top-5 next tokens that start a fitting word, and the largest
    probability given to the first token of a word that does not fit (猫坐在 → 灯泡)."""
    if not checks:
        return {}
    top5_good, bad_max = [], []
    for check in checks:
        probs = next_token_probs(model, tok, check.prompt)
        good = {answer_token(tok, check.prompt, w) for w in check.good}
        bad = {answer_token(tok, check.prompt, w) for w in check.bad}
        top = probs.topk(5).indices.tolist()
        top5_good.append(sum(t in good for t in top) / 5)
        bad_max.append(max(float(probs[t]) for t in bad) if bad else 0.0)
    return {"cloze_top5_good": float(np.mean(top5_good)), "cloze_bad_max_prob": float(np.max(bad_max))}


def unigram_entropy(ids: np.ndarray, vocab_size: int) -> float:
    """Entropy (nats/token) of the corpus's token frequencies: the loss of a model that ignores context."""
    counts = np.bincount(ids, minlength=vocab_size).astype(np.float64)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def rollout(attention: np.ndarray) -> np.ndarray:
    """Attention rollout (Abnar & Zuidema 2020): mean over heads, add the residual path, renormalise,
    multiply through the layers. attention: (L, H, T, T) → (T, T)."""
    T = attention.shape[-1]
    result = np.eye(T)
    for layer in attention:
        a = 0.5 * layer.mean(0) + 0.5 * np.eye(T)
        a = a / a.sum(-1, keepdims=True)
        result = a @ result
    return result


def attention_for(model: GPT, tok: Tokenizer, text: str) -> tuple[list[str], np.ndarray, int]:
    """Tokens shown to a user, attention (L, H, T, T) as float32 and how many leading tokens were cut
    to fit the context."""
    ids, offsets = tok.encode_with_offsets(text)
    shown = tok.display_tokens(text)
    ids, dropped = fit_context(ids or [tok.unk_id], model.cfg.block_size)
    shown = (shown or ["<unk>"])[dropped:]
    out = forward_eval(model, ids, need_attn=True)
    att = torch.stack([a[0] for a in out.attentions]).cpu().numpy().astype(np.float32)
    return shown, att, dropped


# --- the attention inspector's views and the "find the coreference head" report (appended) ------------


def attention_view(
    attention: np.ndarray, layer: int | None = None, head: int | None = None, use_rollout: bool = False
) -> np.ndarray:
    """One (T, T) matrix from (L, H, T, T): a single head, a layer's mean of heads, the mean over all
    layers and heads (layer=None), or rollout. Every choice keeps rows summing to 1 and causality."""
    if use_rollout:
        return rollout(attention)
    if layer is None:
        return attention.mean(axis=(0, 1))
    if head is None:
        return attention[layer].mean(axis=0)
    return attention[layer, head]


def held_out_probes(lang: str = "zh", seed: int = 0) -> tuple[CorefProbe, ...]:
    """The world's held-out coreference probes without generating its 400k characters of text."""
    from core.data.world import world_corpus

    return world_corpus(lang, seed, n_train_chars=1_000).probes


def untrained_like(model: GPT, seed: int = 0) -> GPT:
    """A freshly initialised model of the same shape: the baseline every attention score is shown against."""
    torch.manual_seed(seed)
    fresh = GPT(model.cfg)
    fresh.eval()
    return fresh


def coref_head_report(model: GPT, tok: Tokenizer, probes: Sequence[CorefProbe], seed: int = 0) -> dict:
    """coref_metrics for the model and for an untrained model of its shape, plus per-head scores (L, H).

    The best of L×H heads beats 0.5 by selection alone, so the untrained model's best head is the honest
    baseline to print beside it."""
    trained = coref_metrics(model, tok, probes)
    baseline = coref_metrics(untrained_like(model, seed), tok, probes)
    return {
        **trained,
        **{f"baseline_{k}": v for k, v in baseline.items()},
        "head_scores": head_scores(model, tok, probes),
        "n_probes": len(probes),
    }


def probe_scores(model: GPT, tok: Tokenizer, corpus, n_probes: int | None, full: bool = True) -> dict:
    """What an evaluation reports beside the validation loss, for the trainer and the distiller alike:
    coreference on `n_probes` evenly spaced held-out probes (all when None), and with `full` the word
    vectors' neighbour purity and the cloze checks."""
    metrics: dict = {}
    chosen = corpus.probes if n_probes is None else corpus.probes[:: max(1, len(corpus.probes) // n_probes)]
    if chosen:
        metrics.update(coref_metrics(model, tok, chosen))
    if full and corpus.categories:
        words = sorted(corpus.categories)
        vectors = word_vectors(model, tok, words, corpus.lang)
        purity, chance = neighbor_purity(vectors, [corpus.categories[w] for w in words])
        metrics.update(neighbor_purity=purity, neighbor_chance=chance)
    if full:
        metrics.update(cloze_metrics(model, tok, corpus.cloze_checks))
    return metrics


def showcase_view(model: GPT, tok: Tokenizer, corpus, block_size: int):
    """(words, categories, their vectors, probe text, its tokens, attention): the heavy part of a Snapshot."""
    words = sorted(corpus.categories)
    vectors = word_vectors(model, tok, words, corpus.lang) if words else np.zeros((0, 0), np.float32)
    text = corpus.showcase.text if corpus.showcase else corpus.val_text[:block_size]
    shown, attention, _ = attention_for(model, tok, text)
    return tuple(words), tuple(corpus.categories[w] for w in words), vectors, text, tuple(shown), attention
