"""The TransformerLens export matches the numpy forward pass activation by activation.

Skipped when transformer_lens is not installed (the ``tl`` extra). With a 3.x
release both ``HookedTransformer`` and ``TransformerBridge`` are checked; with
4.x only the bridge exists.
"""

from __future__ import annotations

import dataclasses
import random
import sys

import numpy as np
import pytest

from rasplab.compiler import compile_program
from rasplab.errors import RaspError
from rasplab.library import PROGRAMS

torch = pytest.importorskip("torch")
transformer_lens = pytest.importorskip("transformer_lens")

from rasplab.model import MLP, Attention, Block  # noqa: E402
from rasplab.model import to_transformer_lens as exported  # noqa: E402
from rasplab.model.info import ModelInfo  # noqa: E402
from rasplab.model.transformer_lens import (  # noqa: E402
    _has_hooked_transformer,
    activation_differences,
    padded_weights,
    reference_activations,
    require_transformer_lens,
    run_decoded,
    to_transformer_lens,
)

KINDS = ["hooked", "bridge"] if _has_hooked_transformer(transformer_lens) else ["bridge"]
MAX_LEN = 6
# name, causal; sort and dyck1 have 2 heads in layer 0 and 1 in layer 1,
# frac_prevs is numerical and has no MLP, reverse has no MLP in layer 1
CASES = [
    ("reverse", False),
    ("sort", False),
    ("hist", False),
    ("dyck1", False),
    ("frac_prevs", False),
    ("frac_prevs", True),
]


@pytest.fixture(scope="module", params=CASES, ids=lambda c: c[0] + ("-causal" if c[1] else ""))
def case(request):
    name, causal = request.param
    entry = PROGRAMS[name]
    model = compile_program(
        entry.build(), entry.vocab, MAX_LEN, causal=causal, verify=0, sample=entry.sample
    )
    rng = random.Random(0)
    inputs = [entry.sample(rng, MAX_LEN) for _ in range(40)]
    return entry, model, inputs


def _convert(model, kind, dtype):
    return to_transformer_lens(model, dtype=dtype, bridge=kind == "bridge")


def _batches(model, inputs):
    """Token ids ``[batch, pos]`` per input length."""
    by_len: dict[int, list] = {}
    for xs in inputs:
        by_len.setdefault(len(xs), []).append(model.encode(xs))
    return [np.stack(rows) for rows in by_len.values()]


def _expected_names(model):
    names = {"hook_embed", "hook_pos_embed", "logits"}
    for i, n_heads in enumerate(model.heads_per_layer):
        for hook in ("resid_pre", "attn_out", "resid_mid", "mlp_out", "resid_post"):
            names.add(f"blocks.{i}.hook_{hook}")
        if n_heads:
            names.add(f"blocks.{i}.attn.hook_pattern")
    return names


@pytest.mark.parametrize("kind", KINDS)
def test_activations_match_in_float64(case, kind):
    _, model, inputs = case
    tl_model = _convert(model, kind, torch.float64)
    for ids in _batches(model, inputs):
        diffs = activation_differences(model, tl_model, ids)
        assert set(diffs) == _expected_names(model)
        assert max(diffs.values()) <= 1e-9, diffs


@pytest.mark.parametrize("kind", KINDS)
def test_activations_match_in_float32(case, kind):
    # Both sides round in float32. Here the gap stays below 1e-6; deeper
    # programs (dyck2) can reach 1e-4, almost all of it numpy's own float32
    # rounding in MLPs whose weights are near 1e3 (float64 agrees to 1e-14).
    _, model, inputs = case
    tl_model = _convert(model, kind, torch.float32)
    for ids in _batches(model, inputs):
        diffs = activation_differences(model, tl_model, ids)
        assert max(diffs.values()) <= 1e-5, diffs


@pytest.mark.parametrize("kind", KINDS)
def test_decoded_outputs_equal_the_evaluator(case, kind):
    entry, model, inputs = case
    tl_model = _convert(model, kind, torch.float32)
    program = entry.build()
    want = [program(xs) for xs in inputs]
    assert run_decoded(model, tl_model, inputs) == want


def test_reference_is_the_numpy_forward_pass(case):
    _, model, inputs = case
    ids = _batches(model, inputs)[0]
    cache: dict = {}
    logits = model.forward(ids, np.float64, cache)
    ref = reference_activations(model, ids, np.float64)
    np.testing.assert_array_equal(ref["logits"], logits)
    for i in range(model.n_layers):
        np.testing.assert_array_equal(ref[f"blocks.{i}.hook_resid_pre"], cache[f"resid_pre.{i}"])
    last = f"blocks.{model.n_layers - 1}.hook_resid_post" if model.n_layers else None
    if last:
        np.testing.assert_array_equal(ref[last], cache["resid_final"])


def test_config_and_padding(case):
    _, model, _ = case
    tl_model = _convert(model, KINDS[0], torch.float32)
    cfg = tl_model.cfg
    assert cfg.n_layers == model.n_layers
    assert cfg.d_model == model.d_model
    assert cfg.n_heads == max(model.heads_per_layer)
    assert cfg.d_mlp == max(max(model.d_mlp_per_layer), 1)
    assert cfg.n_ctx == model.max_seq_len + 1
    assert cfg.d_vocab == len(model.vocab) + 1
    assert cfg.d_vocab_out == model.W_U.shape[1]
    assert cfg.attention_dir == ("causal" if model.causal else "bidirectional")
    padded = padded_weights(model)
    for name, a in model.arrays().items():
        corner = padded[name][tuple(slice(0, n) for n in a.shape)]
        np.testing.assert_array_equal(corner, a)
        assert np.count_nonzero(padded[name]) == np.count_nonzero(a)


def _with_empty_layer(model):
    """``model`` with a first block that has no heads and no MLP (computes nothing)."""
    d = model.d_model
    attn = Attention(
        *(np.zeros((0, d, 0)),) * 3, np.zeros((0, 0, d)), *(np.zeros((0, 0)),) * 3, np.zeros(d)
    )
    mlp = MLP(np.zeros((d, 0)), np.zeros(0), np.zeros((0, d)), np.zeros(d))
    return dataclasses.replace(model, blocks=(Block(attn, mlp), *model.blocks), info=ModelInfo())


@pytest.mark.parametrize("kind", KINDS)
def test_layers_without_heads_or_mlp(kind):
    entry = PROGRAMS["hist"]
    model = _with_empty_layer(compile_program(entry.build(), entry.vocab, 4, verify=0))
    assert model.heads_per_layer == (0, 1)
    tl_model = _convert(model, kind, torch.float64)
    diffs = activation_differences(model, tl_model, ["abca"])
    assert "blocks.0.attn.hook_pattern" not in diffs
    assert max(diffs.values()) <= 1e-9, diffs
    assert run_decoded(model, tl_model, ["abca", "b"]) == model.run(["abca", "b"])


@pytest.mark.parametrize("kind", KINDS)
def test_program_with_no_layers(kind):
    from rasplab import map, tokens

    model = compile_program(map(lambda t: t == "a", tokens), "ab", 4, verify=0)
    assert model.n_layers == 0
    tl_model = _convert(model, kind, torch.float32)
    assert run_decoded(model, tl_model, ["aba", "b"]) == [[True, False, True], [False]]


def test_package_export_is_the_same_function():
    entry = PROGRAMS["hist"]
    model = compile_program(entry.build(), entry.vocab, 3, verify=0)
    tl_model = exported(model)
    assert run_decoded(model, tl_model, ["aab"]) == model.run(["aab"])


def test_unequal_lengths_are_refused():
    entry = PROGRAMS["hist"]
    model = compile_program(entry.build(), entry.vocab, 3, verify=0)
    with pytest.raises(RaspError, match="same length"):
        reference_activations(model, ["ab", "abc"])


def test_missing_transformer_lens_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "transformer_lens", None)
    with pytest.raises(RaspError, match=r"rasplab\[tl\]"):
        require_transformer_lens()


@pytest.mark.parametrize("kind", KINDS)
def test_run_with_cache_hooks_directly(kind):
    entry = PROGRAMS["sort"]
    model = compile_program(entry.build(), entry.vocab, 5, verify=0)
    ids = np.stack([model.encode("cabdc"), model.encode("aaaaa")])
    tl_model = _convert(model, kind, torch.float64)
    with torch.no_grad():
        logits, cache = tl_model.run_with_cache(torch.tensor(ids))
    ref = reference_activations(model, ids, np.float64)
    np.testing.assert_allclose(logits.numpy(), model.forward(ids, np.float64), atol=1e-9)
    for name in ("blocks.1.hook_resid_post", "blocks.0.hook_mlp_out", "blocks.1.hook_attn_out"):
        np.testing.assert_allclose(cache[name].numpy(), ref[name], atol=1e-9)
    pattern = cache["blocks.1.attn.hook_pattern"].numpy()  # [batch, padded heads, query, key]
    assert pattern.shape == (2, 2, 6, 6)
    np.testing.assert_allclose(pattern[:, :1], ref["blocks.1.attn.hook_pattern"], atol=1e-9)
    np.testing.assert_allclose(pattern[:, 1:], 1 / 6)  # the padded head attends uniformly


def test_bridge_compatibility_mode_without_processing_keeps_activations():
    entry = PROGRAMS["frac_prevs"]  # numerical: centring the unembedding would erase it
    model = compile_program(entry.build(), entry.vocab, 4, verify=0, sample=entry.sample)
    tl_model = to_transformer_lens(model, dtype=torch.float64, bridge=True)
    assert (tl_model.cfg.use_attn_scale, tl_model.cfg.attn_scale) == (True, 1.0)
    tl_model.enable_compatibility_mode(no_processing=True, disable_warnings=True)
    assert max(activation_differences(model, tl_model, ["xaxb", "bbbx"]).values()) <= 1e-9
    assert run_decoded(model, tl_model, ["xaxb"]) == model.run(["xaxb"])
