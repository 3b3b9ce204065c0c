"""The compiled model: shapes, named directions, the residual at BOS, inputs, counts."""

from __future__ import annotations

import numpy as np
import pytest

from rasplab import aggregate, indices, length, select, selector_width, tokens
from rasplab.cli.compile import model_summary
from rasplab.compiler import compile_program
from rasplab.errors import InputError


@pytest.fixture(scope="module")
def reverse():
    program = aggregate(select(indices, length - indices - 1, "=="), tokens).named("reverse")
    return compile_program(program, "abc", 6)


def test_transformer_lens_names_and_shapes(reverse):
    arrays = reverse.arrays()
    d = reverse.d_model
    assert arrays["embed.W_E"].shape == (4, d)  # BOS + 3 tokens
    assert arrays["pos_embed.W_pos"].shape == (7, d)
    for i, block in enumerate(reverse.blocks):
        h = block.attn.n_heads
        assert arrays[f"blocks.{i}.attn.W_Q"].shape[:2] == (h, d)
        assert arrays[f"blocks.{i}.attn.W_O"].shape[0] == h
        assert arrays[f"blocks.{i}.mlp.W_in"].shape[0] == d
    assert reverse.n_params == sum(a.size for a in arrays.values())
    assert 0 < reverse.n_nonzero < reverse.n_params


def test_directions_are_named(reverse):
    names = reverse.directions
    assert names[:2] == ("bos", "one")
    assert {"tokens:a", "indices", "indices^2", "reverse:a"} <= set(names)
    assert reverse.index("reverse:*") == [names.index(f"reverse:{t}") for t in "abc"]


def test_ov_reads_by_name(reverse):
    """What does layer 1's head write into reverse:*? Each token to its own value."""
    writes = reverse.ov(1, 0).loc("tokens:*", "reverse:*").nonzero()
    assert writes == {(f"tokens:{t}", f"reverse:{t}"): 1.0 for t in "abc"}


def test_residual_at_bos_stays_clean(reverse):
    cache: dict = {}
    reverse.forward(reverse.encode("abca")[None, :], np.float64, cache)
    bos_one = np.zeros(reverse.d_model)
    bos_one[:2] = 1.0
    for key, resid in cache.items():
        assert np.allclose(resid[0, 0], bos_one, atol=1e-9), key


def test_float32_and_float64(reverse):
    ids = np.stack([reverse.encode(x) for x in ("abcab", "cbaac")])
    a = reverse.forward(ids, np.float32)
    b = reverse.forward(ids, np.float64)
    assert a.dtype == np.float32 and b.dtype == np.float64
    assert np.abs(a - b).max() < 1e-4
    assert reverse.decode(a) == reverse.decode(b) == [list("bacba"), list("caabc")]


def test_input_errors(reverse):
    with pytest.raises(InputError, match="not in the model's vocabulary"):
        reverse("abz")
    with pytest.raises(InputError, match="longer than"):
        reverse("a" * 7)
    with pytest.raises(InputError, match="empty"):
        reverse("")


def test_run_groups_lengths(reverse):
    assert reverse.run(["ab", "abc", "c"]) == [["b", "a"], ["c", "b", "a"], ["c"]]


def test_summary_fields(reverse):
    s = model_summary(reverse)
    assert s["n_layers"] == 2 and s["analysis_layers"] == 2
    assert s["heads_per_layer"] == [1, 1]
    assert s["n_params"] == reverse.n_params
    assert s["verified"]["n_exact"] == s["verified"]["n_inputs"]


def test_numerical_output_snaps_to_known_values():
    count = selector_width(select(tokens, tokens, "=="))
    model = compile_program(count, "ab", 8, verify=0)
    assert model.output.kind == "categorical" or model.output.kind == "numerical"
    assert model("abba") == [2, 2, 2, 2]
