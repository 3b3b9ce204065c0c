"""Every library program compiles and matches the evaluator exactly, in float32 and float64."""

from __future__ import annotations

import random
from functools import cache

import numpy as np
import pytest

from rasplab import analyse
from rasplab.compiler import compile_program, verify
from rasplab.library import PROGRAMS

MAX_LEN = 8
NAMES = sorted(PROGRAMS)


def library_vocab(entry) -> list:
    """The entry's vocabulary plus every token its sampler produces (some mix types)."""
    vocab = list(entry.vocab)
    seen = {(type(t), t) for t in vocab}
    rng = random.Random(0)
    for n in (1, 3, MAX_LEN, MAX_LEN):
        for _ in range(60):
            for t in entry.sample(rng, n):
                if (type(t), t) not in seen:
                    seen.add((type(t), t))
                    vocab.append(t)
    return vocab


@cache
def compiled(name: str):
    entry = PROGRAMS[name]
    model = compile_program(
        entry.build(), library_vocab(entry), MAX_LEN, verify=0, sample=entry.sample
    )
    return entry, model


@pytest.mark.parametrize("name", NAMES)
def test_library_program_is_exact(name):
    entry, model = compiled(name)
    for dtype, n, seed in ((np.float32, 120, 0), (np.float64, 60, 1)):
        result = verify(model, entry.build(), n, sample=entry.sample, dtype=dtype, seed=seed)
        assert result.n_inputs > 0
        assert result.exact, str(result)


@pytest.mark.parametrize("name", NAMES)
def test_library_examples(name):
    entry, model = compiled(name)
    program = entry.build()
    for xs in entry.examples:
        xs = list(xs)
        if len(xs) <= MAX_LEN and all(t in model.vocab for t in xs):
            assert verify(model, program, inputs=[xs]).exact


# The paper's depths: consecutive elementwise steps are fused, and sort's tie-broken count
# is two heads in one layer whose outputs one MLP adds, so every layer count matches.
PAPER_DEPTH = [
    "hist", "reverse", "double_hist", "dyck1", "dyck2", "length", "frac_prevs", "sort",
    "most_freq", "sort_unique", "pair_balance",
]  # fmt: skip


@pytest.mark.parametrize("name", [n for n in PAPER_DEPTH if n in PROGRAMS])
def test_layers_match_the_analysis(name):
    entry, model = compiled(name)
    paper = analyse(entry.build())
    assert model.n_layers == paper.n_layers
    assert model.info.attention_layers == paper.n_layers


def test_heads_match_the_analysis():
    for name in ("hist", "reverse", "double_hist"):
        entry, model = compiled(name)
        assert model.heads_per_layer == analyse(entry.build()).heads_per_layer, name


@pytest.mark.parametrize("name", ["dyck1", "dyck2"])
def test_prefix_counts_cost_one_head_each_not_a_layer(name):
    """round((i + 1) * mean) becomes a counting head: the analysis' layers, one head more."""
    entry, model = compiled(name)
    paper = analyse(entry.build()).heads_per_layer
    assert len(model.heads_per_layer) == len(paper)
    assert model.heads_per_layer[0] == paper[0] + 1
    # dyck2's BOS-free width (two heads in the paper) is one count head with BOS
    fewer = [0, 1, 0, 0] if name == "dyck2" else [0] * len(paper)
    assert list(model.heads_per_layer[1:]) == [
        h - f for h, f in zip(paper[1:], fewer[1:], strict=True)
    ]
    assert any("counts the flagged keys" in note for note in model.info.notes)
    assert any("BOS-free" in note for note in model.info.notes) is (name == "dyck2")


def test_sort_counts_in_two_heads():
    _, model = compiled("sort")
    assert model.heads_per_layer == (2, 1)
    assert any("parts" in note for note in model.info.notes)


def test_no_padding_to_the_widest_layer():
    _, model = compiled("sort")
    assert len(set(model.d_mlp_per_layer)) > 1
    widths = [b.attn.W_Q.shape[2] for b in model.blocks]
    assert len(set(widths)) > 1
