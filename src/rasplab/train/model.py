"""A standard encoder transformer that returns its attention patterns.

Every position attends to every non-padding position (no causal mask). The
input is ``BOS x_1 ... x_n PAD ...``; the model predicts one output class per
position. Attention is written out (not fused) so that every layer's
log-attention ``[batch, heads, query, key]`` is available for supervision.

>>> import torch
>>> model = Transformer(n_tokens=5, n_classes=3, max_len=4, layers=2, heads=2, d_model=8)
>>> logits, log_attn = model(torch.tensor([[0, 2, 3, 1, 1]]))
>>> tuple(logits.shape), len(log_attn), tuple(log_attn[0].shape)
((1, 5, 3), 2, (1, 2, 5, 5))
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import TrainingError
from .config import TrainConfig, require_torch
from .data import PAD

torch = require_torch()
nn = torch.nn
# torch is an optional extra, loaded at run time, so its classes are Any to the type
# checker; an Any-typed name is what it accepts as a base class.
_Module: Any = nn.Module

__all__ = ["Transformer", "Attention", "Block", "MASKED"]

MASKED = -1e9  # score of a padding key: finite, so log-attention stays finite


class Attention(_Module):
    """Multi-head self-attention that also returns its log-attention."""

    def __init__(self, d_model: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.d_head = -(-d_model // heads)  # ceil: every head gets at least d_model / heads
        self.qkv = nn.Linear(d_model, 3 * heads * self.d_head)
        self.out = nn.Linear(heads * self.d_head, d_model)

    def forward(self, x: Any, keys: Any) -> tuple[Any, Any]:
        """``x`` [batch, pos, d_model], ``keys`` [batch, pos] bool (True: attendable)."""
        batch, pos, _ = x.shape
        qkv = self.qkv(x).view(batch, pos, 3, self.heads, self.d_head)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each [batch, heads, pos, d_head]
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.d_head)  # [batch, heads, query, key]
        scores = scores.masked_fill(~keys[:, None, None, :], MASKED)
        log_attn = scores.log_softmax(dim=-1)  # [batch, heads, query, key]
        mixed = log_attn.exp() @ v  # [batch, heads, pos, d_head]
        mixed = mixed.transpose(1, 2).reshape(batch, pos, self.heads * self.d_head)
        return self.out(mixed), log_attn


class Block(_Module):
    """Attention then MLP, each a residual branch (pre-LayerNorm or no norm)."""

    def __init__(self, d_model: int, heads: int, d_ff: int, norm: str, dropout: float) -> None:
        super().__init__()
        make_norm = (lambda: nn.LayerNorm(d_model)) if norm == "pre" else nn.Identity
        self.norm1, self.norm2 = make_norm(), make_norm()
        self.attn = Attention(d_model, heads)
        self.mlp = nn.Sequential(nn.Linear(d_model, d_ff), nn.ReLU(), nn.Linear(d_ff, d_model))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: Any, keys: Any) -> tuple[Any, Any]:
        mixed, log_attn = self.attn(self.norm1(x), keys)
        x = x + self.drop(mixed)  # [batch, pos, d_model]
        x = x + self.drop(self.mlp(self.norm2(x)))  # [batch, pos, d_model]
        return x, log_attn


class Transformer(_Module):
    """Token + position embedding, ``layers`` blocks of ``heads`` heads, a per-position head."""

    def __init__(
        self,
        n_tokens: int,
        n_classes: int,
        max_len: int,
        layers: int,
        heads: int,
        d_model: int = 64,
        d_ff: int | None = None,
        positions: str = "learned",
        norm: str = "pre",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.shape = dict(layers=layers, heads=heads, d_model=d_model, max_len=max_len)
        self.embed = nn.Embedding(n_tokens, d_model)
        size = max_len + 1  # BOS + tokens
        if positions == "onehot":
            if d_model < size:
                raise TrainingError(f"one-hot positions need d_model >= {size}, got {d_model}")
            self.register_buffer("position", torch.eye(size, d_model))  # [pos, d_model]
        else:
            self.position = nn.Parameter(torch.randn(size, d_model) * 0.02)  # [pos, d_model]
        d_ff = 4 * d_model if d_ff is None else d_ff
        self.blocks = nn.ModuleList(
            Block(d_model, heads, d_ff, norm, dropout) for _ in range(layers)
        )
        self.norm = nn.LayerNorm(d_model) if norm == "pre" else nn.Identity()
        self.head = nn.Linear(d_model, n_classes)

    @classmethod
    def from_config(cls, config: TrainConfig, n_tokens: int, n_classes: int) -> Transformer:
        """The model a run uses; ``config.layers`` and ``config.heads`` must be set."""
        if config.layers is None or config.heads is None:
            raise TrainingError("a model needs its layers and heads set (the analysis fills them)")
        return cls(
            n_tokens,
            n_classes,
            config.max_len,
            config.layers,
            config.heads,
            config.d_model,
            config.d_ff,
            config.positions,
            config.norm,
            config.dropout,
        )

    def forward(self, tokens: Any) -> tuple[Any, list[Any]]:
        """``tokens`` [batch, pos] ids -> logits [batch, pos, classes], log-attention per layer."""
        keys = tokens != PAD  # [batch, pos]
        x = self.embed(tokens) + self.position[: tokens.shape[1]]  # [batch, pos, d_model]
        patterns = []
        for block in self.blocks:
            x, log_attn = block(x, keys)
            patterns.append(log_attn)  # [batch, heads, query, key]
        return self.head(self.norm(x)), patterns
