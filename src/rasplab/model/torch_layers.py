"""The PyTorch layers behind :func:`rasplab.model.torch.from_compiled`.

This module imports torch on import; :mod:`rasplab.model.torch` imports it
only once torch is known to be installed.

Each layer keeps the compiled weights under their TransformerLens names (so
``state_dict`` reads like a TransformerLens model) and computes its forward
pass with compact copies: only the residual dimensions a head or MLP reads,
only the head dimensions and MLP units that can be non-zero, and writes
into only the dimensions it changes. The residual is ``[tokens, d_model]``
(batch and position flattened) so that every projection is one 2-d matmul.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError
from .inputs import as_batch
from .model import CompiledModel
from .sparse import runs, used_cols, used_rows
from .torch import require_torch

torch = require_torch()
nn = torch.nn
# torch comes from require_torch(), so mypy sees it as Any; an Any-typed alias of the
# base class lets the layers subclass nn.Module without a name mypy cannot resolve.
_Module: Any = nn.Module

__all__ = ["Compiled", "Attention", "MLP", "Read", "Write"]

SLICES = True  # read and write one run of dimensions as a slice (False: always gather)
MAX_TABLE = 1 << 22  # entries in the summed token-and-position embedding table


def compact_heads(attn: Any) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray, tuple]:
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


def softmax_keys(scores: Any, masked: Any) -> Any:
    """Softmax over keys (the last axis), in place, with ``masked`` keys at exactly 0.

    Compiled scores are far apart, so most shifted scores are hugely
    negative, and exp takes a slow path on those (30x slower on some CPUs).
    Clamping them at -80 first changes weights below e^-80 (1.8e-35, far
    below float rounding) and nothing else.
    """
    if masked is not None:
        scores = scores.masked_fill_(masked, float("-inf"))
    e = scores.sub_(scores.amax(-1, keepdim=True)).clamp_(min=-80.0).exp_()
    if masked is not None:
        e = e.masked_fill_(masked, 0.0)
    return e.div_(e.sum(-1, keepdim=True))


def _param(a: np.ndarray, dtype: Any) -> Any:
    return nn.Parameter(torch.tensor(np.asarray(a), dtype=dtype), requires_grad=False)


def _buffer(module: Any, name: str, a: np.ndarray | None, dtype: Any) -> None:
    """A compact copy, as a buffer (so that ``.to()`` moves it) left out of the state dict."""
    value = None if a is None else torch.tensor(np.asarray(a), dtype=dtype)
    module.register_buffer(name, value, persistent=False)


def _span_of(index: np.ndarray) -> slice | None:
    """``index`` as one slice when it is a single run of dimensions (or empty), else None."""
    spans = runs(index)
    if not spans:
        return slice(0, 0)
    return spans[0] if SLICES and len(spans) == 1 else None


class Read(_Module):
    """``x @ w + bias`` as one matmul over just the residual dimensions ``w`` reads.

    Dimensions in one run are read as a slice (no copy); scattered ones
    are gathered first.
    """

    def __init__(self, w: np.ndarray, bias: np.ndarray, dtype: Any) -> None:
        super().__init__()
        rows = used_rows(w)
        self.span = _span_of(rows)
        _buffer(self, "w", w[rows], dtype)  # [rows read, d_out]
        _buffer(self, "rows", rows, torch.long)
        _buffer(self, "bias", bias if np.any(bias) else None, dtype)

    def forward(self, x: Any) -> Any:  # x: [tokens, d_model]
        part = x[:, self.span] if self.span is not None else x.index_select(1, self.rows)
        if self.bias is None:
            return part @ self.w
        return torch.addmm(self.bias, part, self.w)  # [tokens, d_out]


class Write(_Module):
    """``x += y @ w + bias`` in place, over just the residual dimensions it changes."""

    def __init__(self, w: np.ndarray, bias: np.ndarray, dtype: Any) -> None:
        super().__init__()
        cols = np.union1d(used_cols(w), np.flatnonzero(bias)).astype(np.int64)
        self.span = _span_of(cols)
        _buffer(self, "w", w[:, cols], dtype)  # [d_in, cols written]
        _buffer(self, "cols", cols, torch.long)
        _buffer(self, "bias", bias[cols] if np.any(bias) else None, dtype)

    def forward(self, x: Any, y: Any) -> Any:
        if self.span is not None:  # one run: multiply-add straight into the slice
            part = x[:, self.span]
            part.addmm_(y, self.w)
            if self.bias is not None:
                part.add_(self.bias)
            return x
        z = y @ self.w if self.bias is None else torch.addmm(self.bias, y, self.w)
        return x.index_add_(1, self.cols, z)


class Attention(_Module):
    """TransformerLens-named weights; the forward pass uses compact copies.

    Only the head dimensions in use are kept, Q, K and V come from one
    matmul over the residual dimensions they read, and the result is added
    only into the dimensions some head writes: the same numbers, far
    fewer zeros and calls.
    """

    def __init__(self, attn: Any, dtype: Any) -> None:
        super().__init__()
        for name in ("W_Q", "W_K", "W_V", "W_O", "b_Q", "b_K", "b_V", "b_O"):
            setattr(self, name, _param(getattr(attn, name), dtype))
        weights, biases, out, self.shape = compact_heads(attn)
        self.qkv = Read(np.concatenate(weights, 1), np.concatenate(biases), dtype)
        self.write = Write(out, attn.b_O, dtype)

    def forward(self, x: Any, batch: int, future: Any) -> Any:
        n = x.shape[0] // batch
        h, e, f = self.shape
        q, k, v = self.qkv(x).split((h * e, h * e, h * f), dim=1)  # [tokens, heads * e|f]
        q = q.view(batch, n, h, e).transpose(1, 2)  # [batch, heads, pos, e]
        k = k.view(batch, n, h, e).transpose(1, 2)
        v = v.view(batch, n, h, f).transpose(1, 2)  # [batch, heads, pos, f]
        scores = q @ k.transpose(-1, -2)  # [batch, heads, query, key]
        z = softmax_keys(scores, None if future is None else future[:n, :n]) @ v
        return self.write(x, z.transpose(1, 2).reshape(batch * n, h * f))


class MLP(_Module):
    """TransformerLens-named weights; the forward pass skips units and dimensions not used."""

    def __init__(self, mlp: Any, dtype: Any) -> None:
        super().__init__()
        for name in ("W_in", "b_in", "W_out", "b_out"):
            setattr(self, name, _param(getattr(mlp, name), dtype))
        # a unit that reads nothing (and has no bias) or writes nothing adds 0
        live = (mlp.W_in.any(0) | (mlp.b_in != 0)) & mlp.W_out.any(1)
        self.hidden = Read(mlp.W_in[:, live], mlp.b_in[live], dtype)
        self.write = Write(mlp.W_out[live], mlp.b_out, dtype)

    def forward(self, x: Any) -> Any:
        return self.write(x, self.hidden(x).relu_())  # x: [tokens, d_model]


class Block(_Module):
    """One layer: attention then MLP, either skipped when the compiled layer has none."""

    def __init__(self, block: Any, dtype: Any) -> None:
        super().__init__()
        self.attn = Attention(block.attn, dtype)
        self.mlp = MLP(block.mlp, dtype)
        self.has_attn = block.attn.n_heads > 0
        self.has_mlp = block.mlp.d_mlp > 0


class Compiled(_Module):
    """The compiled transformer; ``forward(tokens [batch, pos]) -> logits``."""

    def __init__(self, model: CompiledModel, dtype: Any) -> None:
        super().__init__()
        self.model = model
        self.embed = nn.Module()
        self.embed.W_E = _param(model.W_E, dtype)
        self.pos_embed = nn.Module()
        self.pos_embed.W_pos = _param(model.W_pos, dtype)
        self.blocks = nn.ModuleList(Block(b, dtype) for b in model.blocks)
        self.unembed = nn.Module()
        self.unembed.W_U = _param(model.W_U, dtype)
        self.unembed.b_U = _param(model.b_U, dtype)
        self.logits = Read(model.W_U, model.b_U, dtype)
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

    @torch.inference_mode()  # weights are fixed: skipping autograd's bookkeeping saves ~10%
    def forward(self, tokens: Any) -> Any:
        if not isinstance(tokens, torch.Tensor):  # a string or a list is inputs, not ids
            raise InputError(
                "the module takes token ids [batch, pos] as a tensor, got "
                f"{type(tokens).__name__}; for inputs use module.run([...]), which encodes them"
            )
        if tokens.ndim != 2 or tokens.shape[1] > self.positions.shape[0]:
            raise InputError(
                f"tokens must be ids [batch, pos] with pos at most n_ctx "
                f"{self.positions.shape[0]}, got shape {list(tokens.shape)}"
            )
        batch, n = tokens.shape
        if self.embed_table is None:
            x = self.embed.W_E[tokens] + self.pos_embed.W_pos[:n]  # [batch, pos, d_model]
            x = x.reshape(batch * n, -1)
        else:
            ids = (tokens * self.positions.shape[0] + self.positions[:n]).reshape(-1)
            x = torch.nn.functional.embedding(ids, self.embed_table)  # [tokens, d_model]
        for block in self.blocks:
            if block.has_attn:
                x = block.attn(x, batch, self.future)
            if block.has_mlp:
                x = block.mlp(x)
        return self.logits(x).view(batch, n, -1)  # [batch, pos, d_out]

    def run(self, inputs: Any, *, check_domain: bool = True) -> list[list[Any]]:
        """Decoded outputs of a batch (a list of inputs), like :meth:`CompiledModel.run`."""
        batch = as_batch(inputs, "run")
        out: list[Any] = [None] * len(batch)
        groups: dict[int, list[int]] = {}
        encoded = [self.model.encode(xs, check_domain=check_domain) for xs in batch]
        for i, ids in enumerate(encoded):
            groups.setdefault(len(ids), []).append(i)
        device = self.positions.device
        for members in groups.values():  # forward runs under inference_mode itself
            ids = torch.tensor(np.stack([encoded[i] for i in members]), device=device)
            logits = self.forward(ids).cpu().numpy()
            for i, row in zip(members, self.model.decode(logits), strict=True):
                out[i] = row
        return out
