"""Causal heads test only what the mask leaves of a selector, and averages read as 'above 0?'.

Under a causal mask ``select(indices, indices, "<=")`` holds for every key a
query sees, so a causal model stores no position for it: dyck1's prefix
counts become counts of flagged keys, and its "was the balance ever
negative?" one head answering 0 or 1. Each model here is checked on every
input up to a small length against the causal reference, in float32 and
float64, and an edited weight must lose its proof.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from test_compiler_bounds import bounded, mismatches

from rasplab import aggregate, indices, numerical, select, tokens
from rasplab.compiler import bounds_heads, compile_program, verify
from rasplab.compiler.causal import under_mask
from rasplab.compiler.certify import certify
from rasplab.compiler.combine import Combiner
from rasplab.compiler.driver import compile_with_blueprint
from rasplab.compiler.selectors import All, Literal, Truth, formula
from rasplab.compiler.triangles import triangle_note
from rasplab.errors import CompileError, ResourceLimitError
from rasplab.library import get

PREFIX = select(indices, indices, "<=")
SAME = select(tokens, tokens, "==")


def test_the_mask_drops_the_prefix_factor_and_nothing_else():
    kept = under_mask(formula(PREFIX & SAME))
    assert isinstance(kept, Literal) and kept.key is tokens
    assert isinstance(under_mask(formula(PREFIX)), Truth)
    assert isinstance(under_mask(formula(PREFIX | SAME)), Truth)  # true absorbs an or
    strict = select(indices, indices, "<")  # the query itself: the mask does not test it
    assert isinstance(under_mask(formula(strict & SAME)), All)
    assert isinstance(under_mask(formula(~PREFIX)), Literal)  # keys after the query: kept


def test_causal_dyck1_stores_no_position_and_is_proved_on_every_input():
    program = get("dyck1").build()
    model, blueprint, proof = bounded(program, "()", 8, causal=True)
    one_hot, _, _ = bounded(program, "()", 8)
    assert proof.proved and proof.dtype == "float32"
    assert not any(d.startswith("indices") for d in model.directions)
    assert model.n_params * 3 < one_hot.n_params
    compared, wrong = mismatches(model, program)
    assert compared == 510 and wrong == 0  # every input up to length 8, both float types
    notes = " ".join(model.info.notes)
    assert "read only as 'above 0?'" in notes
    assert "causal mask: it keeps select(indices, indices, '<=') by itself" in notes
    assert "causal mask" not in " ".join(one_hot.info.notes)


def _scaled_w_o(model, block, factor):
    attn = model.blocks[block].attn
    blocks = list(model.blocks)
    blocks[block] = replace(blocks[block], attn=replace(attn, W_O=attn.W_O * factor))
    return replace(model, blocks=tuple(blocks))


def test_an_edited_causal_head_loses_the_proof():
    program = get("dyck1").build()
    model, blueprint, proof = bounded(program, "()", 8, causal=True)
    assert proof.proved
    block = next(b for b, blk in enumerate(model.blocks) if "prev_negative>0" in blk.attn.names)
    bad = _scaled_w_o(model, block, -1.0)
    broken = certify(bad, program, blueprint=blueprint, method="bounds")
    assert not broken.proved
    assert mismatches(bad, program)[1] > 0  # the edit really breaks the model


def test_at_64_the_keys_one_value_keeps_float32(monkeypatch):
    """The 'above 0?' head averages the constant 1: how its weight falls among the keys
    changes nothing, only BOS's share does. Counting that spread too loses float32."""
    entry = get("dyck1")
    program = entry.build()
    model, blueprint = compile_with_blueprint(program, entry.vocab, 64, causal=True)
    proof = certify(model, program, blueprint=blueprint, method="bounds")
    assert proof.proved and proof.dtype == "float32" and proof.method == "bounds"
    assert model.n_params < 3000
    # the same model (a compile would build others until one is proved in float32)
    monkeypatch.setattr(bounds_heads, "_one_vector", lambda head, ks: False)
    looser = certify(model, program, blueprint=blueprint, method="bounds")
    assert looser.dtype == "float64"


def test_an_average_read_as_above_zero_is_one_head_without_a_mask():
    flag = numerical(tokens.map(lambda t: 1 if t == "a" else 0))
    seen = aggregate(PREFIX, flag) > 0
    model = compile_program(seen, "ab", 6, verify=50)
    assert any("read only as 'above 0?'" in n for n in model.info.notes)
    assert model.info.certificate.proved
    assert verify(model, seen, exhaustive=True).exact
    half = aggregate(PREFIX, flag) > 0.5  # tells shares apart: stays an average
    model = compile_program(half, "ab", 6, verify=50)
    assert not any("above 0?" in n for n in model.info.notes)
    assert verify(model, half, exhaustive=True).exact


@pytest.mark.parametrize("m", [1, 2, 5, 9])
def test_a_flag_averaged_over_m_keys_takes_every_share(m):
    for pool in ([0, 1], [False, True]):
        values = Combiner(pool, "mean", None).values(frozenset({m}))
        assert values is not None and sorted(set(values)) == [j / m for j in range(m + 1)]


def test_a_causal_check_runs_the_program_once_per_input_where_it_looks_back():
    entry = get("dyck1")
    model = compile_program(entry.build(), entry.vocab, 12, causal=True, sample=entry.sample)
    once = verify(model, entry.build(), 40, sample=entry.sample, looks_back=True)
    each = verify(model, entry.build(), 40, sample=entry.sample)
    assert once.exact and each.exact and once.n_inputs == each.n_inputs == 40
    assert np.dtype(once.dtype) == np.float32


def test_a_refusal_for_size_of_a_prefix_program_suggests_causal_masks():
    entry = get("dyck1")
    with pytest.raises(ResourceLimitError, match="--causal") as found:
        compile_program(entry.build(), entry.vocab, 16, max_params=2_000)
    assert "reads only its prefix" in str(found.value)
    small = compile_program(entry.build(), entry.vocab, 16, causal=True, max_params=2_000)
    assert small.n_params <= 2_000
    reverse = get("reverse")  # reads later positions: no such hint
    with pytest.raises(ResourceLimitError) as refused:
        compile_program(reverse.build(), reverse.vocab, 16, max_params=500)
    assert "--causal" not in str(refused.value)


def test_only_heads_whose_keys_all_move_one_value_drop_the_spread(monkeypatch):
    """The check sees every key combination, the moved value included, even where the
    softmax is bounded over the positions alone (the scores ignore the value)."""
    seen: dict[str, bool] = {}
    real = bounds_heads._one_vector

    def spy(head, ks):
        seen[head.name] = real(head, ks)
        return seen[head.name]

    monkeypatch.setattr(bounds_heads, "_one_vector", spy)
    bounded(get("frac_prevs").build(), "xab", 6)  # a mean of a token flag over a prefix
    assert seen and not any(seen.values()), seen
    seen.clear()
    bounded(get("dyck1").build(), "()", 8, causal=True)
    counts = [v for name, v in seen.items() if name.endswith(".attn")]
    assert seen["prev_negative>0"] and counts and not any(counts)


def test_a_refusal_for_size_says_why_a_select_of_earlier_positions_grows():
    # frac_prevs averages a flag over the prefix (dyck1's counts and "ever negative?"
    # are split over the positions' digits instead: test_compiler_prefix_digits.py)
    entry = get("frac_prevs")
    with pytest.raises(ResourceLimitError) as info:
        compile_program(entry.build(), list(entry.vocab), 1024, max_params=5_000_000)
    assert "more than max_params=5,000,000" in str(info.value)
    assert "its selector compares positions (select(indices, indices, '<='))" in str(info.value)
    assert "(1,023 here)" in str(info.value)
    assert triangle_note(get("reverse").build(), 1024, causal=False) is None  # == only
    dyck = get("dyck1").build()
    assert triangle_note(dyck, 1024, causal=False) is not None
    assert triangle_note(dyck, 1024, causal=True) is None  # the mask compares them


def test_a_program_no_mask_can_run_is_refused_before_its_value_sets(monkeypatch):
    def no_value_sets(*args):
        raise AssertionError("value sets built for a program refused anyway")

    monkeypatch.setattr("rasplab.compiler.front.front_of", no_value_sets)
    with pytest.raises(CompileError, match="hist: its selector"):
        compile_program(get("hist").build(), list("abc"), 1024, causal=True)
