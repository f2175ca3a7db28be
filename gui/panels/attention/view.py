"""The attention panel's arithmetic and texts, kept apart from its widgets: one forward for a sentence,
weights summed into words, the view menus' items, and the one-line notes about the input."""

from __future__ import annotations

from collections import Counter

import numpy as np

from gui.i18n import tr
from gui.widgets.model_choice import inference_threads

BLANKS = ("＿", "_")


def compute_attention(ckpt, text: str):
    """(display tokens, ids, offsets, attention (L, H, T, T), dropped) for the last window of `text`.
    For the masked model a blank (＿ or _) becomes [MASK], the token it was trained to fill."""
    from core.analysis.probes import fit_context, forward_eval

    tok, block = ckpt.tokenizer, ckpt.model_cfg.block_size
    text = text[-8 * block :]  # bounded work whatever was pasted; the window below is what counts
    ids, offsets = tok.encode_with_offsets(text)
    shown = tok.display_tokens(text)
    if ckpt.model_cfg.objective == "masked":
        for i, (a, b) in enumerate(offsets):
            if text[a:b] in BLANKS:
                ids[i], shown[i] = tok.mask_id, "[MASK]"
    ids, dropped = fit_context(ids, block)
    with inference_threads():
        out = forward_eval(ckpt.model, ids, need_attn=True)
    att = np.stack([a[0].cpu().numpy() for a in out.attentions]).astype(np.float32)
    return shown[dropped:], ids, offsets[dropped:], text, att, dropped


def group_words(tokens: list[str], row: np.ndarray, words: list[str]) -> list[tuple[str, float]]:
    """Sum a row's weights over runs of tokens that spell a known word (垫+子 → 垫子), largest first.
    A word that occurs twice (它 … 它) gets its position as a subscript, so the bars stay distinguishable."""
    spans: list[tuple[str, int, float]] = []
    i = 0
    while i < len(tokens):
        j = next(
            (j for j in range(min(len(tokens), i + 4), i + 1, -1) if "".join(tokens[i:j]).strip() in words),
            i + 1,
        )
        spans.append(("".join(tokens[i:j]).strip() or tokens[i] or "◌", i, float(row[i:j].sum())))
        i = j
    counts = Counter(label for label, _, _ in spans)
    out = [(label + (_subscript(i + 1) if counts[label] > 1 else ""), w) for label, i, w in spans]
    return sorted(out, key=lambda t: -t[1])


def _subscript(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def view_items(n_layer: int, n_head: int) -> tuple[list[str], list[str]]:
    """Items of the layer menu (mean, each layer, rollout) and of the head menu (mean, each head)."""
    layers = [tr("全部层平均", "All layers (mean)")]
    layers += [tr(f"第 {k + 1} 层", f"Layer {k + 1}") for k in range(n_layer)]
    layers.append(tr("层间传递（rollout）", "Rollout across layers"))
    heads = [tr("各头平均", "Mean of heads")] + [tr(f"头 {k + 1}", f"Head {k + 1}") for k in range(n_head)]
    return layers, heads


def input_notes(dropped: int, unknown: list[str], capped: bool, n_tokens: int, max_chars: int) -> list[str]:
    """Say what happened to the input instead of a dialog: capped, cut to the context, unknown characters."""
    lines = []
    if capped:
        lines.append(
            tr(f"输入最多 {max_chars} 个字符，多余的已截掉。", f"Input is capped at {max_chars} characters.")
        )
    if dropped:
        lines.append(
            tr(
                f"句子比模型的上下文长：只看最后 {n_tokens} 个词元（前面 {dropped} 个被略去）。",
                f"Longer than the context: showing the last {n_tokens} tokens ({dropped} dropped).",
            )
        )
    if unknown:
        lines.append(
            tr("模型不认识的字（红框）：", "Characters the model has never seen (red): ")
            + " ".join(unknown[:12])
        )
    return lines
