"""Activations by hook name and direction name agree with the forward pass."""

from __future__ import annotations

import random

import numpy as np
import pytest

from rasplab.compiler import compile_program
from rasplab.errors import RaspError
from rasplab.library import PROGRAMS


@pytest.fixture(scope="module", params=["sort", "dyck2", "frac_prevs", "most_freq"])
def case(request):
    entry = PROGRAMS[request.param]
    model = compile_program(entry.build(), entry.vocab, 8, verify=0, sample=entry.sample)
    rng = random.Random(1)
    inputs = [entry.sample(rng, 8) for _ in range(5)]
    return model, inputs


def test_outputs_and_logits_match_the_forward_pass(case):
    model, inputs = case
    outputs, cache = model.run_with_cache(inputs, np.float64)
    assert outputs == model.run(inputs)
    ids = np.stack([model.encode(xs) for xs in inputs])
    assert np.allclose(cache["logits"], model.forward(ids, np.float64), atol=1e-12)
    last = f"blocks.{model.n_layers - 1}.hook_resid_post"
    assert np.array_equal(cache[last] @ model.W_U + model.b_U, cache["logits"])


def test_heads_add_up_to_the_attention_output(case):
    model, inputs = case
    _, cache = model.run_with_cache(inputs, np.float64)
    for i, block in enumerate(model.blocks):
        if block.attn.n_heads:
            heads = cache[f"blocks.{i}.attn.hook_result"].sum(axis=2) + block.attn.b_O
            assert np.allclose(heads, cache[f"blocks.{i}.hook_attn_out"], atol=1e-9)
            mid = cache[f"blocks.{i}.hook_resid_pre"] + cache[f"blocks.{i}.hook_attn_out"]
            assert np.allclose(mid, cache[f"blocks.{i}.hook_resid_mid"], atol=1e-12)


def test_named_reads_rows_by_position_and_columns_by_direction(case):
    model, inputs = case
    _, cache = model.run_with_cache(inputs)
    resid = cache.named("blocks.0.hook_resid_pre", batch=2)
    assert resid.rows[0] == "0:<bos>" and resid.rows[1] == f"1:{inputs[2][0]}"
    assert resid.cols == model.directions
    if model.index("tokens:*"):  # (a program may keep only features computed from tokens)
        token = resid.loc("1:*", "tokens:*").nonzero(0.5)  # the one-hot token embedding
        assert list(token) == [(resid.rows[1], f"tokens:{inputs[2][0]}")]
    pattern = cache.named("blocks.0.attn.hook_pattern", batch=2, head=0)
    assert pattern.rows == pattern.cols == resid.rows
    assert np.allclose(pattern.matrix.sum(axis=1), 1.0, atol=1e-5)


def test_named_errors_say_what_to_do(case):
    model, inputs = case
    _, cache = model.run_with_cache(inputs)
    with pytest.raises(RaspError, match="head="):
        cache.named("blocks.0.attn.hook_pattern")
    with pytest.raises(RaspError, match="head="):
        cache.named("blocks.0.attn.hook_result", head=99)
    with pytest.raises(RaspError, match="not residual-shaped"):
        cache.named("logits")
    with pytest.raises(KeyError, match="hook_resid_pre"):
        cache["blocks.0.resid"]


def test_inputs_of_different_lengths_are_refused():
    entry = PROGRAMS["sort"]
    model = compile_program(entry.build(), entry.vocab, 4, verify=0)
    with pytest.raises(RaspError, match="same length"):
        model.run_with_cache([["a", "b"], ["a"]])
