"""The reference forward pass in numpy (float32 or float64).

A large batch runs in chunks of inputs whose activations fit in
``CHUNK_BYTES``, so memory stays bounded however many inputs there are; the
logits are the same as in one pass (each input is computed on its own).

>>> import numpy as np
>>> softmax(np.array([[0.0, 0.0]]))
array([[0.5, 0.5]])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError

if TYPE_CHECKING:
    from .model import CompiledModel

__all__ = [
    "run_numpy",
    "softmax",
    "check_ids",
    "rows_per_chunk",
    "support",
    "Columns",
    "CHUNK_BYTES",
]

CHUNK_BYTES = 64 * 1024 * 1024  # activations of one chunk of a large batch


def softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, max-subtracted (``-inf`` entries get weight 0)."""
    e = x - x.max(axis=-1, keepdims=True)
    np.exp(e, out=e)  # in place: at long lengths these are [batch, heads, n, n]
    e /= e.sum(axis=-1, keepdims=True)
    return e


@dataclass(frozen=True)
class Columns:
    """Where a compiled attention or MLP is not zero: it reads a few of the residual
    stream's ``d_model`` columns and writes fewer, and a head's query and key, or value
    and output, overlap in a few of its ``d_head``. Products restricted to these give
    the dense ones' sums (what is left out is exact zeros) at a fraction of the cost."""

    reads: np.ndarray  # residual columns read
    writes: np.ndarray  # residual columns written
    heads: tuple[tuple[np.ndarray, np.ndarray], ...] = ()  # per head: (q.k dims, v.o dims)


def _nonzero(arrays: list[np.ndarray], axis: tuple[int, ...]) -> np.ndarray:
    """Indices along the axis left out of ``axis`` where some array is nonzero."""
    return np.flatnonzero(sum(np.any(a != 0, axis=axis) for a in arrays))


def support(w: dict, prefix: str) -> dict[str, Columns]:
    """The :class:`Columns` of a block's attention and MLP (by ``attn`` and ``mlp``)."""
    attn, mlp = prefix + "attn.", prefix + "mlp."
    W_Q, W_K, W_V, W_O = (w[attn + k] for k in ("W_Q", "W_K", "W_V", "W_O"))
    heads = []
    for h in range(W_Q.shape[0]):  # a dim counts where both factors of its product can be nonzero
        q, k, v = (
            np.any(m[h] != 0, axis=0) | (w[attn + b][h] != 0)
            for m, b in ((W_Q, "b_Q"), (W_K, "b_K"), (W_V, "b_V"))
        )
        heads.append((np.flatnonzero(q & k), np.flatnonzero(v & np.any(W_O[h] != 0, axis=1))))
    writes = np.union1d(_nonzero([W_O], (0, 1)), np.flatnonzero(w[attn + "b_O"]))
    found = {"attn": Columns(_nonzero([W_Q, W_K, W_V], (0, 2)), writes, tuple(heads))}
    writes = np.union1d(_nonzero([w[mlp + "W_out"]], (0,)), np.flatnonzero(w[mlp + "b_out"]))
    found["mlp"] = Columns(_nonzero([w[mlp + "W_in"]], (1,)), writes)
    return found


def attention_part(x: np.ndarray, w: dict, prefix: str, causal: bool, cols: Columns) -> np.ndarray:
    """The attention's output on the columns it writes: ``[batch, pos, len(cols.writes)]``."""
    n = x.shape[1]
    read = x[..., cols.reads]  # [batch, pos, len(reads)]
    out = np.zeros((*x.shape[:2], len(cols.writes)), dtype=x.dtype) + w[prefix + "b_O"][cols.writes]
    mask = np.tril(np.ones((n, n), dtype=bool)) if causal else None
    for h, (qk, vo) in enumerate(cols.heads):

        def project(name: str, dims: np.ndarray, h: int = h) -> np.ndarray:  # [batch, pos, dims]
            return (
                read @ w[prefix + "W_" + name][h][cols.reads][:, dims]
                + w[prefix + "b_" + name][h][dims]
            )

        if not len(vo):  # nothing of this head reaches the stream
            continue
        scores = project("Q", qk) @ project("K", qk).transpose(0, 2, 1)  # [batch, query, key]
        if mask is not None:
            scores = np.where(mask, scores, -np.inf)
        z = softmax(scores) @ project("V", vo)  # [batch, pos, len(vo)]
        out += z @ w[prefix + "W_O"][h][vo][:, cols.writes]
    return out


def mlp_part(x: np.ndarray, w: dict, prefix: str, cols: Columns) -> np.ndarray:
    """The MLP's output on the columns it writes: ``[batch, pos, len(cols.writes)]``."""
    pre = (
        x[..., cols.reads] @ w[prefix + "W_in"][cols.reads] + w[prefix + "b_in"]
    )  # [batch, pos, d_mlp]
    return (
        np.maximum(pre, 0) @ w[prefix + "W_out"][:, cols.writes] + w[prefix + "b_out"][cols.writes]
    )


def _attention(
    x: np.ndarray, w: dict, prefix: str, causal: bool, cols: Columns | None = None
) -> np.ndarray:
    """The attention's output, every column of the residual stream (``cols``: its
    :class:`Columns`, where the caller has them)."""
    cols = support(w, prefix[: -len("attn.")])["attn"] if cols is None else cols
    out = np.zeros_like(x)
    out[..., cols.writes] = attention_part(x, w, prefix, causal, cols)
    return out


def _mlp(x: np.ndarray, w: dict, prefix: str, cols: Columns | None = None) -> np.ndarray:
    """The MLP's output, every column of the residual stream (``cols``: its
    :class:`Columns`, where the caller has them)."""
    cols = support(w, prefix[: -len("mlp.")])["mlp"] if cols is None else cols
    out = np.zeros_like(x)
    out[..., cols.writes] = mlp_part(x, w, prefix, cols)
    return out


def check_ids(model: CompiledModel, ids: np.ndarray) -> None:
    """InputError unless ``ids`` are token ids ``[batch, pos]`` the model can run."""
    if ids.ndim != 2 or ids.dtype.kind not in "iu":
        raise InputError(
            f"token ids must be an int array [batch, pos], got {ids.dtype} of shape {ids.shape}"
        )
    if ids.shape[1] > model.n_ctx:
        raise InputError(
            f"{ids.shape[1]} positions is more than the model's n_ctx {model.n_ctx} "
            f"(max_seq_len {model.max_seq_len} + BOS)"
        )
    if ids.size and (ids.min() < 0 or ids.max() >= model.d_vocab):
        raise InputError(f"token ids must be 0..{model.d_vocab - 1} (0 is BOS)")


def rows_per_chunk(model: CompiledModel, n_pos: int, dtype: np.dtype) -> int:
    """Inputs per chunk so that one chunk's activations stay within ``CHUNK_BYTES``."""
    widths = [model.d_model, model.d_out]
    for block in model.blocks:
        h, _, e = block.attn.W_Q.shape
        widths += [3 * h * e, h * n_pos, block.mlp.d_mlp]
    # a handful of arrays this wide are alive at once (residual, q/k/v, scores, ...)
    per_input = 4 * n_pos * max(widths) * dtype.itemsize
    return max(1, CHUNK_BYTES // max(per_input, 1))


def run_numpy(
    model: CompiledModel, ids: np.ndarray, dtype: np.dtype, cache: dict | None
) -> np.ndarray:
    """Logits for ``ids``; without a cache, in chunks of ``rows_per_chunk`` inputs."""
    check_ids(model, ids)
    rows = rows_per_chunk(model, ids.shape[1], dtype)
    if cache is not None or len(ids) <= rows:
        return _run(model, ids, dtype, cache)
    logits = np.empty((*ids.shape, model.d_out), dtype=dtype)
    for start in range(0, len(ids), rows):
        logits[start : start + rows] = _run(model, ids[start : start + rows], dtype, None)
    return logits


def _run(model: CompiledModel, ids: np.ndarray, dtype: np.dtype, cache: dict | None) -> np.ndarray:
    w = model.weights(dtype)
    supports = model.supports(dtype)
    n = ids.shape[1]
    x = w["embed.W_E"][ids] + w["pos_embed.W_pos"][:n]  # [batch, pos, d_model]
    for i, block in enumerate(model.blocks):
        if cache is not None:
            cache[f"resid_pre.{i}"] = x
            x = x.copy()  # added to in place below
        cols = supports[i]
        if block.attn.n_heads:
            x[..., cols["attn"].writes] += attention_part(
                x, w, f"blocks.{i}.attn.", model.causal, cols["attn"]
            )
        if block.mlp.d_mlp:
            x[..., cols["mlp"].writes] += mlp_part(x, w, f"blocks.{i}.mlp.", cols["mlp"])
    if cache is not None:
        cache["resid_final"] = x
    return x @ w["unembed.W_U"] + w["unembed.b_U"]  # [batch, pos, d_out]
