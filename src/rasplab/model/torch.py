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
from .sparse import runs, used_cols, used_rows

__all__ = ["from_compiled", "require_torch"]

MAX_SLICES = 4  # read at most this many runs of dimensions as slices, else gather
MAX_TABLE = 1 << 22  # entries in the summed token-and-position embedding table


def require_torch() -> Any:
    """The ``torch`` module, or a RaspError naming the extra that installs it."""
    try:
        import torch
    except ImportError:
        raise RaspError(
            "PyTorch is not installed; install the torch extra: pip install 'rasplab[torch]'"
        ) from None
    return torch


def _compact_heads(attn: Any) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray, tuple]:
    """W_Q, W_K, W_V as [d_model, heads * width] over the head dimensions in use, with biases.

    A head dimension is in use when it is non-zero in both W_Q and W_K (or in
    both W_V and W_O); the others contribute exactly 0. Also W_O cut the same way.
    """
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

    weights, biases = [], []
    for w, b, cols, size in ((attn.W_Q, attn.b_Q, qk, e), (attn.W_K, attn.b_K, qk, e),
                             (attn.W_V, attn.b_V, ov, f)):  # fmt: skip
        weights.append(take(w, cols, size).transpose(1, 0, 2).reshape(d, h * size))
        biases.append(take(b, cols, size).reshape(h * size))
    out = np.zeros((h, f, d))
    for i, c in enumerate(ov):
        out[i, : len(c)] = attn.W_O[i][c]
    return weights, biases, out.reshape(h * f, d), (h, e, f)


def _softmax(scores: Any, masked: Any) -> Any:
    """Softmax over keys, with ``masked`` keys at exactly 0.

    Compiled scores are far apart, so most shifted scores are hugely
    negative, and exp takes a slow path on those (30x slower on some CPUs).
    Clamping them at -80 first changes weights below e^-80 (1.8e-35, far
    below float rounding) and nothing else.
    """
    if masked is not None:
        scores = scores.masked_fill(masked, float("-inf"))
    shifted = scores - scores.amax(-1, keepdim=True)
    e = shifted.clamp_(min=-80.0).exp_()
    if masked is not None:
        e = e.masked_fill_(masked, 0.0)
    return e / e.sum(-1, keepdim=True)


@cache
def _classes() -> tuple[type, type, type]:
    torch = require_torch()
    nn = torch.nn

    def param(a: np.ndarray, dtype: Any) -> Any:
        return nn.Parameter(torch.tensor(np.asarray(a), dtype=dtype), requires_grad=False)

    class Projection(nn.Module):
        """``x @ w + bias`` over the residual dimensions ``w`` reads (rows not all zero).

        A few runs of consecutive dimensions are read as slices, one matmul
        each (no copy); scattered dimensions are gathered first.
        """

        def __init__(self, w: np.ndarray, bias: np.ndarray, dtype: Any) -> None:
            super().__init__()
            rows = used_rows(w)
            spans = runs(rows)
            self.spans = spans if len(spans) <= MAX_SLICES else None
            parts = [w[s] for s in spans] if self.spans else [w[rows]]
            for i, part in enumerate(parts):  # buffers, so that .to() moves them
                self.register_buffer(f"w{i}", torch.tensor(part, dtype=dtype), persistent=False)
            self.n_parts = len(parts)
            self.register_buffer("rows", torch.tensor(rows, dtype=torch.long), persistent=False)
            self.register_buffer("bias", torch.tensor(bias, dtype=dtype), persistent=False)
            self.has_bias = bool(np.any(bias))
            self.d_out = w.shape[1]

        def forward(self, x: Any) -> Any:
            if self.spans is None:
                y = x.index_select(-1, self.rows) @ self.w0  # [batch, pos, d_out]
            elif not self.spans:
                y = x.new_zeros(*x.shape[:-1], self.d_out)
            else:
                y = x[..., self.spans[0]] @ self.w0
                for i, span in enumerate(self.spans[1:], start=1):
                    y = y + x[..., span] @ getattr(self, f"w{i}")
            return y + self.bias if self.has_bias else y

    class Writer(nn.Module):
        """Adds a sublayer's result into the residual dimensions it writes, in place."""

        def __init__(self, w: np.ndarray, bias: np.ndarray) -> None:
            super().__init__()
            cols = np.union1d(used_cols(w), np.flatnonzero(bias)).astype(np.int64)
            spans = runs(cols)
            self.spans = spans if len(spans) <= MAX_SLICES else None
            self.register_buffer("cols", torch.tensor(cols, dtype=torch.long), persistent=False)

        def forward(self, x: Any, y: Any) -> Any:
            if self.spans is None:
                return x.index_add_(-1, self.cols, y)
            start = 0
            for span in self.spans:
                stop = start + span.stop - span.start
                x[..., span] += y[..., start:stop]
                start = stop
            return x

    class Attention(nn.Module):
        """TransformerLens-named weights; the forward pass uses compact copies.

        Only the head dimensions in use are kept, Q, K and V each read just the
        residual dimensions they need, and the result is added only into the
        dimensions some head writes: the same numbers, far fewer zeros.
        """

        def __init__(self, attn: Any, dtype: Any) -> None:
            super().__init__()
            for name in ("W_Q", "W_K", "W_V", "W_O", "b_Q", "b_K", "b_V", "b_O"):
                setattr(self, name, param(getattr(attn, name), dtype))
            weights, biases, out, self.shape = _compact_heads(attn)
            self.q, self.k, self.v = (
                Projection(w, b, dtype) for w, b in zip(weights, biases, strict=True)
            )
            self.writer = Writer(out, attn.b_O)
            cols = self.writer.cols.numpy()
            self.o = Projection(out[:, cols], attn.b_O[cols], dtype)

        def forward(self, x: Any, future: Any) -> Any:
            b, n, _ = x.shape
            h, e, f = self.shape
            q = self.q(x).view(b, n, h, e).transpose(1, 2)  # [batch, heads, pos, e]
            k = self.k(x).view(b, n, h, e).transpose(1, 2)
            v = self.v(x).view(b, n, h, f).transpose(1, 2)  # [batch, heads, pos, f]
            scores = q @ k.transpose(-1, -2)  # [batch, heads, query, key]
            z = _softmax(scores, None if future is None else future[:n, :n]) @ v
            # z: [batch, heads, pos, f]
            return self.writer(x, self.o(z.transpose(1, 2).reshape(b, n, h * f)))

    class MLP(nn.Module):
        """TransformerLens-named weights; the forward pass skips units and dimensions not used."""

        def __init__(self, mlp: Any, dtype: Any) -> None:
            super().__init__()
            for name in ("W_in", "b_in", "W_out", "b_out"):
                setattr(self, name, param(getattr(mlp, name), dtype))
            # a unit that reads nothing (and has no bias) or writes nothing adds 0
            live = (mlp.W_in.any(0) | (mlp.b_in != 0)) & mlp.W_out.any(1)
            w_out = mlp.W_out[live]
            self.hidden = Projection(mlp.W_in[:, live], mlp.b_in[live], dtype)
            self.writer = Writer(w_out, mlp.b_out)
            cols = self.writer.cols.numpy()
            self.out = Projection(w_out[:, cols], mlp.b_out[cols], dtype)

        def forward(self, x: Any) -> Any:
            return self.writer(x, self.out(torch.relu(self.hidden(x))))  # [batch, pos, d_model]

    class Block(nn.Module):
        def __init__(self, block: Any, dtype: Any) -> None:
            super().__init__()
            self.attn = Attention(block.attn, dtype)
            self.mlp = MLP(block.mlp, dtype)
            self.has_attn = block.attn.n_heads > 0
            self.has_mlp = block.mlp.d_mlp > 0

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
            self.logits = Projection(model.W_U, model.b_U, dtype)
            n_ctx = model.W_pos.shape[0]
            # token and position embeddings summed ahead: one gather per forward, no add
            table = None
            if model.W_E.shape[0] * n_ctx * model.d_model <= MAX_TABLE:
                table = (model.W_E[:, None] + model.W_pos[None]).reshape(-1, model.d_model)
                table = torch.tensor(table, dtype=dtype)
            self.register_buffer("embed_table", table, persistent=False)
            self.register_buffer("positions", torch.arange(n_ctx), persistent=False)
            future = torch.ones(n_ctx, n_ctx, dtype=torch.bool).triu(1)
            self.register_buffer("future", future if model.causal else None, persistent=False)

        def forward(self, tokens: Any) -> Any:
            n = tokens.shape[1]
            if self.embed_table is None:
                x = self.embed.W_E[tokens] + self.pos_embed.W_pos[:n]  # [batch, pos, d_model]
            else:
                x = self.embed_table[tokens * self.positions.shape[0] + self.positions[:n]]
            for block in self.blocks:
                if block.has_attn:
                    x = block.attn(x, self.future)
                if block.has_mlp:
                    x = block.mlp(x)
            return self.logits(x)  # [batch, pos, d_out]

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
