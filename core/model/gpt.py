"""A small GPT in the shape of nanoGPT: pre-LayerNorm blocks, learned positions, tied embeddings.

The objective decides the attention mask: "causal" (next-token, GPT) masks the future; "masked"
(fill-in-the-blank, BERT-like) lets every position see both sides. One attention module has two paths:
`scaled_dot_product_attention` for speed, and an explicit softmax that can hand back its weights."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from core.config import ModelConfig


@dataclass
class ModelOutput:
    logits: torch.Tensor  # (B, T, vocab)
    attentions: list[torch.Tensor] | None = None  # per layer (B, nh, T, T), rows sum to 1
    hidden_states: list[torch.Tensor] | None = None  # embeddings + each block's output, (B, T, C)


class SelfAttention(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.n_head = cfg.n_head
        self.causal = cfg.objective == "causal"
        self.qkv = nn.Linear(cfg.n_embd, 3 * cfg.n_embd)
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd)
        self.dropout = cfg.dropout
        # Decided by measurement (benchmarks/train_throughput.py); the explicit path is used whenever
        # weights are wanted regardless.
        self.use_sdpa = True

    def forward(self, x: torch.Tensor, need_weights: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        hs = C // self.n_head
        q = q.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, self.n_head, hs).transpose(1, 2)
        v = v.view(B, T, self.n_head, hs).transpose(1, 2)
        weights = None
        if self.use_sdpa and not need_weights:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=self.causal)
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))  # (B, nh, T, T)
            if self.causal:
                future = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)
                att = att.masked_fill(future, float("-inf"))
            weights = F.softmax(att, dim=-1)
            y = weights @ v  # (B, nh, T, hs)
        if self.training and self.dropout:
            y = self._drop_head_rows(y)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.proj(y), weights

    def _drop_head_rows(self, y: torch.Tensor) -> torch.Tensor:
        """Drop a head's whole output for one token (one draw per sequence, head and position), scaled up
        by 1 / (1 - p). A sharp head's output is its one key's value, so this drops what dropping that key
        would, with one random number per row instead of one per attention weight. On the CPU per-weight masks
        push SDPA off its fused kernel and made the `default` step 1.14-1.44x slower; this costs ~1.03x
        (docs/experiments.md, "Dropout per head and token")."""
        keep = torch.empty(y.shape[:-1] + (1,), dtype=y.dtype, device=y.device).bernoulli_(1 - self.dropout)
        return y * keep * (1.0 / (1.0 - self.dropout))


class MLP(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.fc = nn.Linear(cfg.n_embd, 4 * cfg.n_embd)
        self.proj = nn.Linear(4 * cfg.n_embd, cfg.n_embd)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(F.gelu(self.fc(x)))


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd)
        self.attn = SelfAttention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd)
        self.mlp = MLP(cfg)

    def forward(self, x: torch.Tensor, need_weights: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        a, weights = self.attn(self.ln_1(x), need_weights)
        x = x + a
        x = x + self.mlp(self.ln_2(x))
        return x, weights


class GPT(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg.validate()
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.block_size, cfg.n_embd)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.n_embd)
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # tied: one vector per token, read and written
        self.apply(_init_weights)
        for name, p in self.named_parameters():
            if name.endswith("proj.weight"):  # GPT-2's scaled init of residual projections
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * cfg.n_layer))

    def set_fast_attention(self, enabled: bool) -> None:
        for block in self.blocks:
            block.attn.use_sdpa = enabled

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(self, idx: torch.Tensor, need_attn: bool = False, need_hidden: bool = False) -> ModelOutput:
        B, T = idx.shape
        if T > self.cfg.block_size:
            raise ValueError(f"sequence of {T} tokens is longer than the context ({self.cfg.block_size})")
        pos = torch.arange(T, device=idx.device)
        x = self.wte(idx) + self.wpe(pos)  # (B, T, C)
        attentions = [] if need_attn else None
        hidden = [x] if need_hidden else None
        for block in self.blocks:
            x, weights = block(x, need_attn)
            if need_attn:
                attentions.append(weights)
            if need_hidden:
                hidden.append(x)
        logits = self.lm_head(self.ln_f(x))  # (B, T, vocab)
        return ModelOutput(logits, attentions, hidden)


def _init_weights(module: nn.Module) -> None:
    if isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.Embedding):
        nn.init.normal_(module.weight, mean=0.0, std=0.02)
