"""The forward pass restricted to the columns a layer reads and writes, against the dense
textbook formula (the oracle here) on compiled models and on random sparse weights."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from rasplab.compiler import compile_program
from rasplab.library import PROGRAMS
from rasplab.model.forward import support


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def dense_logits(model, ids: np.ndarray) -> np.ndarray:
    """Every product over every column: ``[batch, pos, d_out]`` in float64."""
    w = model.weights(np.float64)
    n = ids.shape[1]
    x = w["embed.W_E"][ids] + w["pos_embed.W_pos"][:n]
    for i, block in enumerate(model.blocks):
        a, m = f"blocks.{i}.attn.", f"blocks.{i}.mlp."
        if block.attn.n_heads:
            q = np.einsum("bpd,hde->bhpe", x, w[a + "W_Q"]) + w[a + "b_Q"][:, None]
            k = np.einsum("bpd,hde->bhpe", x, w[a + "W_K"]) + w[a + "b_K"][:, None]
            v = np.einsum("bpd,hde->bhpe", x, w[a + "W_V"]) + w[a + "b_V"][:, None]
            scores = q @ k.transpose(0, 1, 3, 2)  # [batch, heads, query, key]
            if model.causal:
                scores = np.where(np.tril(np.ones((n, n), dtype=bool)), scores, -np.inf)
            z = _softmax(scores) @ v
            x = x + np.einsum("bhpe,hed->bpd", z, w[a + "W_O"]) + w[a + "b_O"]
        if block.mlp.d_mlp:
            hidden = np.maximum(x @ w[m + "W_in"] + w[m + "b_in"], 0)
            x = x + hidden @ w[m + "W_out"] + w[m + "b_out"]
    return x @ w["unembed.W_U"] + w["unembed.b_U"]


def _ids(model, rng: np.random.Generator, batch: int, n: int) -> np.ndarray:
    ids = rng.integers(1, model.d_vocab, size=(batch, n + 1))
    ids[:, 0] = 0  # BOS
    return ids


CASES = [("reverse", 12, False), ("sort", 10, False), ("dyck2", 12, True), ("most_freq", 9, False)]


@pytest.mark.parametrize("name,n,causal", CASES)
def test_compiled_models_agree_with_the_dense_formula(name, n, causal):
    entry = PROGRAMS[name]
    model = compile_program(entry.build(), list(entry.vocab), n, causal=causal, verify=0)
    ids = _ids(model, np.random.default_rng(0), 16, n)
    dense = dense_logits(model, ids)
    assert np.allclose(model.forward(ids, np.float64), dense, rtol=1e-9, atol=1e-9)
    decoded = model.decode(model.forward(ids, np.float32))
    assert decoded == model.decode(dense)
    # the point of it: some layer reads and writes a fraction of the stream
    columns = model.supports(np.float64)
    assert min(len(c["mlp"].reads) for c in columns) < model.d_model


def _scrambled(model, rng: np.random.Generator):
    """``model`` with random weights, zero where a random mask says: rows, columns and
    whole heads of zeros, and biases alone in a dim (a value that is only its bias)."""

    def sparse(a: np.ndarray) -> np.ndarray:
        keep = rng.random(a.shape) < 0.3
        if a.ndim == 3 and a.shape[0]:
            keep[rng.integers(a.shape[0])] = False  # a head of zeros
        return np.where(keep, rng.normal(size=a.shape), 0.0)

    blocks = []
    for block in model.blocks:
        attn = {k: sparse(getattr(block.attn, k)) for k in ("W_Q", "W_K", "W_V", "W_O")}
        attn |= {k: sparse(getattr(block.attn, k)) for k in ("b_Q", "b_K", "b_V", "b_O")}
        mlp = {k: sparse(getattr(block.mlp, k)) for k in ("W_in", "b_in", "W_out", "b_out")}
        blocks.append(
            replace(block, attn=replace(block.attn, **attn), mlp=replace(block.mlp, **mlp))
        )
    return replace(model, blocks=tuple(blocks))


@pytest.mark.parametrize("seed", range(6))
def test_random_sparse_weights_agree_with_the_dense_formula(seed):
    entry = PROGRAMS["dyck1"]
    causal = bool(seed % 2)
    base = compile_program(entry.build(), list(entry.vocab), 8, causal=causal, verify=0)
    rng = np.random.default_rng(seed)
    model = _scrambled(base, rng)
    ids = _ids(model, rng, 8, 8)
    cache: dict = {}
    got = model.forward(ids, np.float64, cache)
    assert np.allclose(got, dense_logits(model, ids), rtol=1e-9, atol=1e-9)
    # the stream is added to in place: what the cache holds before a block stays as it was
    assert not np.shares_memory(cache["resid_pre.0"], cache["resid_final"])


def test_a_dim_is_kept_only_where_both_factors_can_be_nonzero():
    entry = PROGRAMS["reverse"]
    model = compile_program(entry.build(), list(entry.vocab), 6, verify=0)
    w = {k: v.copy() for k, v in model.weights(np.float64).items()}
    layer = next(i for i, b in enumerate(model.blocks) if b.attn.n_heads)
    a = f"blocks.{layer}.attn."
    w[a + "W_V"][:] = 0
    w[a + "b_V"][0, 0] = 2.0  # a value that is its bias alone still reaches the output
    w[a + "W_O"][0, 0, 0] = 1.0
    heads = support(w, f"blocks.{layer}.")["attn"].heads
    assert heads[0][1].tolist() == [0]
    w[a + "W_O"][0, 0, :] = 0  # ... unless nothing reads it out
    assert support(w, f"blocks.{layer}.")["attn"].heads[0][1].tolist() == []
