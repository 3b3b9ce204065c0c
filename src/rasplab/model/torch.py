"""A compiled model as a PyTorch ``nn.Module`` (needs the ``torch`` extra).

The module's ``state_dict`` uses TransformerLens names (``embed.W_E``,
``blocks.0.attn.W_Q``, ...) and its forward pass matches
:meth:`rasplab.model.CompiledModel.forward` to float rounding.

>>> from rasplab import tokens, select, selector_width
>>> from rasplab.compiler import compile_program
>>> hist = compile_program(selector_width(select(tokens, tokens, "==")), "ab", 4, verify=0)
>>> module = from_compiled(hist)  # doctest: +SKIP
>>> module.run(["abb"])  # doctest: +SKIP
[[1, 2, 2]]
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from ..errors import RaspError
from .model import CompiledModel

__all__ = ["from_compiled", "require_torch"]


def require_torch() -> Any:
    """The ``torch`` module, or a RaspError naming the extra that installs it."""
    try:
        import torch
    except ImportError:
        raise RaspError(
            "PyTorch is not installed; install the torch extra: pip install 'rasplab[torch]'"
        ) from None
    return torch


def _compact(attn: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int, int]]:
    """Fused [W_Q | W_K | W_V] over the used dimensions only, its bias, and W_O likewise."""
    h, d, _ = attn.W_Q.shape
    qk = [np.flatnonzero(attn.W_Q[i].any(0) & attn.W_K[i].any(0)) for i in range(h)]
    ov = [np.flatnonzero(attn.W_V[i].any(0) & attn.W_O[i].any(1)) for i in range(h)]
    e = max((len(c) for c in qk), default=0)
    f = max((len(c) for c in ov), default=0)

    def take(w: np.ndarray, cols: list[np.ndarray], size: int) -> np.ndarray:
        out = np.zeros((h, *w.shape[1:-1], size))
        for i, c in enumerate(cols):
            out[i, ..., : len(c)] = w[i][..., c]
        return out

    q, k, v = take(attn.W_Q, qk, e), take(attn.W_K, qk, e), take(attn.W_V, ov, f)
    fused = np.concatenate([m.transpose(1, 0, 2).reshape(d, -1) for m in (q, k, v)], axis=1)
    bias = np.concatenate(
        [
            take(attn.b_Q, qk, e).reshape(-1),
            take(attn.b_K, qk, e).reshape(-1),
            take(attn.b_V, ov, f).reshape(-1),
        ]
    )
    out = np.zeros((h, f, d))
    for i, c in enumerate(ov):
        out[i, : len(c)] = attn.W_O[i][c]
    return fused, bias, out.reshape(h * f, d), (h, e, f)


@cache
def _classes() -> tuple[type, type, type]:
    torch = require_torch()
    nn = torch.nn

    def param(a: np.ndarray, dtype: Any) -> Any:
        return nn.Parameter(torch.tensor(np.asarray(a), dtype=dtype), requires_grad=False)

    class Attention(nn.Module):
        """TransformerLens-named weights; the forward pass uses compact fused copies.

        Only the dimensions a head uses (non-zero in both W_Q and W_K, or in both
        W_V and W_O) are kept, and Q, K, V come from one matmul: the same numbers,
        fewer multiplications by zero.
        """

        def __init__(self, attn: Any, dtype: Any) -> None:
            super().__init__()
            for name in ("W_Q", "W_K", "W_V", "W_O", "b_Q", "b_K", "b_V", "b_O"):
                setattr(self, name, param(getattr(attn, name), dtype))
            qkv, bias, out, self.shape = _compact(attn)
            self.register_buffer("qkv", torch.tensor(qkv, dtype=dtype), persistent=False)
            self.register_buffer("qkv_bias", torch.tensor(bias, dtype=dtype), persistent=False)
            self.register_buffer("out", torch.tensor(out, dtype=dtype), persistent=False)
            self.has_bias = bool(np.any(bias))

        def forward(self, x: Any, causal: bool) -> Any:
            b, n, _ = x.shape
            h, e, f = self.shape
            qkv = x @ self.qkv  # [batch, pos, heads * (2e + f)]
            if self.has_bias:
                qkv = qkv + self.qkv_bias
            q, k, v = qkv.split([h * e, h * e, h * f], dim=-1)
            q = q.view(b, n, h, e).transpose(1, 2)  # [batch, heads, pos, e]
            k = k.view(b, n, h, e).transpose(1, 2)
            v = v.view(b, n, h, f).transpose(1, 2)  # [batch, heads, pos, f]
            scores = q @ k.transpose(-1, -2)  # [batch, heads, query, key]
            if causal:
                mask = torch.ones(n, n, dtype=torch.bool, device=x.device).tril()
                scores = scores.masked_fill(~mask, float("-inf"))
            z = torch.softmax(scores, dim=-1) @ v  # [batch, heads, pos, f]
            return z.transpose(1, 2).reshape(b, n, h * f) @ self.out + self.b_O

    class MLP(nn.Module):
        def __init__(self, mlp: Any, dtype: Any) -> None:
            super().__init__()
            for name in ("W_in", "b_in", "W_out", "b_out"):
                setattr(self, name, param(getattr(mlp, name), dtype))

        def forward(self, x: Any) -> Any:
            return torch.relu(x @ self.W_in) @ self.W_out  # compiled MLPs have no biases

        def biased(self, x: Any) -> Any:
            return torch.relu(x @ self.W_in + self.b_in) @ self.W_out + self.b_out

    class Block(nn.Module):
        def __init__(self, block: Any, dtype: Any) -> None:
            super().__init__()
            self.attn = Attention(block.attn, dtype)
            self.mlp = MLP(block.mlp, dtype)
            self.has_attn = block.attn.n_heads > 0
            self.has_mlp = block.mlp.d_mlp > 0
            self.mlp_bias = bool(np.any(block.mlp.b_in) or np.any(block.mlp.b_out))

    class Compiled(nn.Module):
        """The compiled transformer; ``forward(tokens [batch, pos]) -> logits``."""

        def __init__(self, model: CompiledModel, dtype: Any) -> None:
            super().__init__()
            self.model = model
            self.embed = nn.Module()
            self.embed.W_E = param(model.W_E, dtype)
            self.pos_embed = nn.Module()
            self.pos_embed.W_pos = param(model.W_pos, dtype)
            self.blocks = nn.ModuleList(Block(b, dtype) for b in model.blocks)
            self.unembed = nn.Module()
            self.unembed.W_U = param(model.W_U, dtype)
            self.unembed.b_U = param(model.b_U, dtype)

        def forward(self, tokens: Any) -> Any:
            n = tokens.shape[1]
            x = self.embed.W_E[tokens] + self.pos_embed.W_pos[:n]  # [batch, pos, d_model]
            for block in self.blocks:
                if block.has_attn:
                    x = x + block.attn(x, self.model.causal)
                if block.has_mlp:
                    x = x + (block.mlp.biased(x) if block.mlp_bias else block.mlp(x))
            return x @ self.unembed.W_U + self.unembed.b_U  # [batch, pos, d_out]

        def run(self, inputs: list[Any]) -> list[list[Any]]:
            """Decoded outputs, like :meth:`CompiledModel.run`."""
            out: list[Any] = [None] * len(inputs)
            groups: dict[int, list[int]] = {}
            encoded = [self.model.encode(xs) for xs in inputs]
            for i, ids in enumerate(encoded):
                groups.setdefault(len(ids), []).append(i)
            with torch.no_grad():
                for members in groups.values():
                    ids = torch.tensor(np.stack([encoded[i] for i in members]))
                    logits = self.forward(ids).cpu().numpy()
                    for i, row in zip(members, self.model.decode(logits), strict=True):
                        out[i] = row
            return out

    return Attention, MLP, Compiled


def from_compiled(model: CompiledModel, dtype: Any = None) -> Any:
    """A ``torch.nn.Module`` computing ``model`` (float32 unless ``dtype`` says otherwise)."""
    torch = require_torch()
    return _classes()[2](model, dtype or torch.float32)
