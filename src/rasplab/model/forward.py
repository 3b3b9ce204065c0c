"""The reference forward pass in numpy (float32 or float64).

A large batch runs in chunks of inputs whose activations fit in
``CHUNK_BYTES``, so memory stays bounded however many inputs there are; the
logits are the same as in one pass (each input is computed on its own).

>>> import numpy as np
>>> softmax(np.array([[0.0, 0.0]]))
array([[0.5, 0.5]])
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError

if TYPE_CHECKING:
    from .model import CompiledModel

__all__ = ["run_numpy", "softmax", "check_ids", "rows_per_chunk", "CHUNK_BYTES"]

CHUNK_BYTES = 64 * 1024 * 1024  # activations of one chunk of a large batch


def softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, max-subtracted (``-inf`` entries get weight 0)."""
    e = x - x.max(axis=-1, keepdims=True)
    np.exp(e, out=e)  # in place: at long lengths these are [batch, heads, n, n]
    e /= e.sum(axis=-1, keepdims=True)
    return e


def _attention(x: np.ndarray, w: dict, prefix: str, causal: bool) -> np.ndarray:
    b, n, d = x.shape
    h, _, e = w[prefix + "W_Q"].shape
    proj = [w[prefix + name].transpose(1, 0, 2).reshape(d, h * e) for name in ("W_Q", "W_K", "W_V")]
    bias = [w[prefix + name].reshape(h * e) for name in ("b_Q", "b_K", "b_V")]
    qkv = x @ np.concatenate(proj, axis=1) + np.concatenate(
        bias
    )  # [batch, pos, 3 * heads * d_head]
    q, k, v = qkv.reshape(b, n, 3, h, e).transpose(
        2, 0, 3, 1, 4
    )  # each [batch, heads, pos, d_head]
    scores = q @ k.transpose(0, 1, 3, 2)  # [batch, heads, query, key]
    if causal:
        scores = np.where(np.tril(np.ones((n, n), dtype=bool)), scores, -np.inf)
    z = softmax(scores) @ v  # [batch, heads, pos, d_head]
    out = z.transpose(0, 2, 1, 3).reshape(b, n, h * e) @ w[prefix + "W_O"].reshape(h * e, d)
    return out + w[prefix + "b_O"]


def _mlp(x: np.ndarray, w: dict, prefix: str) -> np.ndarray:
    hidden = np.maximum(x @ w[prefix + "W_in"] + w[prefix + "b_in"], 0)  # [batch, pos, d_mlp]
    return hidden @ w[prefix + "W_out"] + w[prefix + "b_out"]


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
    n = ids.shape[1]
    x = w["embed.W_E"][ids] + w["pos_embed.W_pos"][:n]  # [batch, pos, d_model]
    for i, block in enumerate(model.blocks):
        if cache is not None:
            cache[f"resid_pre.{i}"] = x
        if block.attn.n_heads:
            x = x + _attention(x, w, f"blocks.{i}.attn.", model.causal)
        if block.mlp.d_mlp:
            x = x + _mlp(x, w, f"blocks.{i}.mlp.")
    if cache is not None:
        cache["resid_final"] = x
    return x @ w["unembed.W_U"] + w["unembed.b_U"]  # [batch, pos, d_out]
