"""Each compiler stage on its own: value sets, selector scores, rewrites, exact MLPs, report."""

from __future__ import annotations

import numpy as np
import pytest

from rasplab import aggregate, indices, length, select, selector_width, tokens, zipmap
from rasplab.compiler import compile_program
from rasplab.compiler.lower import lower
from rasplab.compiler.mlp import synthesize
from rasplab.compiler.selectors import construct, formula
from rasplab.compiler.units import Leaf, Target
from rasplab.compiler.value_sets import infer


def test_value_sets_are_per_position_and_exact():
    opp = length - indices - 1
    vs = infer(opp, "ab", 5)
    assert [len(vs.at(opp, i)) for i in range(5)] == [5, 4, 3, 2, 1]
    prefix_mean = aggregate(select(indices, indices, "<="), tokens.map(lambda t: t == "a") * 1)
    vs = infer(prefix_mean, "ab", 4, lambda *a: "mean")
    assert sorted(vs.at(prefix_mean, 1)) == [0, 0.5, 1]


def test_counts_start_at_one_when_the_query_selects_itself():
    hist = selector_width(select(tokens, tokens, "=="))
    assert min(infer(hist, "ab", 4).union(hist)) == 1


def test_scores_for_and_or_not():
    same_pair = select(tokens, tokens, "<") | select(tokens, tokens, "==")
    score = construct(formula(same_pair), lambda a, b: False)
    assert len(score.terms) == 1 and score.exact_top  # one merged literal
    both = same_pair & ~select(indices, indices, ">")
    assert construct(formula(both), lambda a, b: False).top == 2.0


def test_split_and_any_rewrites():
    earlier = select(tokens, tokens, "<") | (
        select(tokens, tokens, "==") & select(indices, indices, "<")
    )
    width = selector_width(earlier)
    low = lower(width, infer(width, "ab", 6))
    assert any("parts" in n for n in low.notes) and low.count_scales
    flag = selector_width(select(tokens, tokens, "==") & select(indices, indices, "<")) > 0
    low = lower(flag, infer(flag, "ab", 6))
    assert any("0 or 1" in n for n in low.notes)


def test_width_decoding_mlp_is_exact_at_128():
    n = 128
    xs = [n / (n + w) for w in range(n + 1)]
    leaf = Leaf.numerical("x", xs)
    spec = synthesize(
        [leaf],
        np.arange(n + 1)[:, None],
        Target.categorical([f"w:{w}" for w in range(n + 1)]),
        list(range(n + 1)),
    )
    assert spec is not None and spec.strategy == "axis"
    assert len(spec.units) <= 2 * n + 3


def test_lookup_and_linear():
    leaf = Leaf.categorical("t", "abc")
    spec = synthesize(
        [leaf], np.array([[0], [1], [2]]), Target.categorical(["o:x", "o:y"]), [0, 1, 1]
    )
    assert spec.strategy == "linear" and len(spec.units) == 2


def _prefix_count(flag):
    prefix = select(indices, indices, "<=")
    return ((indices + 1) * aggregate(prefix, flag)).map(round)


def test_a_rounded_prefix_mean_times_width_is_recognised_as_a_count():
    from rasplab.compiler.counts import count_nodes

    n_a = _prefix_count((tokens == "a") * 1)
    vs = infer(n_a, "ab", 6, lambda *a: "mean")
    assert n_a.id in count_nodes(n_a, vs)
    # without the rounding the map yields floats, not the count: left alone
    scaled = n_a.inner
    assert scaled.id not in count_nodes(scaled, infer(scaled, "ab", 6, lambda *a: "mean"))
    # a flag other than 0/1 is a sum, not a count
    twos = _prefix_count((tokens == "a") * 2)
    assert count_nodes(twos, infer(twos, "ab", 6, lambda *a: "mean")) == {}


@pytest.mark.parametrize("causal", [False, True])
def test_counts_compile_exactly_on_every_input(causal):
    import itertools

    depth = (_prefix_count((tokens == "(") * 1) - _prefix_count((tokens == ")") * 1)).named("d")
    model = compile_program(depth, "()x", 6, causal=causal)
    assert any("counts the flagged keys" in note for note in model.info.notes)
    for n in range(1, 7):
        for xs in itertools.product("()x", repeat=n):
            assert model(list(xs)) == depth(list(xs))


def test_width_cover_marks_every_width_between_the_bounds():
    from rasplab.compiler.combine import width_cover

    lo = np.array([[0, 1, 2], [1, 1, 1]])
    hi = np.array([[0, 3, 2], [1, 1, 2]])
    valid = np.array([[True, False, True], [True, True, True]])
    assert width_cover(lo, hi, valid).astype(int).tolist() == [[1, 0, 1], [0, 1, 1]]


def test_a_coarse_map_of_positions_is_an_embedded_leaf():
    from rasplab.compiler.layout import plan

    first = indices.map(lambda i: i == 0)
    out = zipmap(lambda f, t: t if f else "-", first, tokens)
    picked = aggregate(select(indices, indices, "=="), out)
    vs = infer(picked, "ab", 8)
    layout = plan(picked, vs, 8.0)
    assert any(f.key[0] == first.id and f.producer == "embed" for f in layout.features)


def test_width_decoded_to_a_number_is_interpolated():
    """One unit per point, not two per step: the line through (B / (B + w), w)."""
    n = 128
    xs = [n / (n + w) for w in range(n + 1)]
    spec = synthesize(
        [Leaf.numerical("x", xs)], np.arange(n + 1)[:, None], Target.numerical("w"), range(n + 1)
    )
    assert spec.strategy == "interpolate" and len(spec.units) <= n + 1


def test_a_steep_convex_decoding_is_built_from_the_side_whose_terms_stay_small():
    """w = n/x - n is steep near x = 1/2: from the left its units are terms of thousands
    that cancel to hundreds (float32 rounds the sum in proportion to the terms); from the
    right every term is at most the output itself."""
    n = 1024
    xs = np.array([n / (n + w) for w in range(n + 1)])
    spec = synthesize(
        [Leaf.numerical("x", xs)], np.arange(n + 1)[:, None], Target.numerical("w"), range(n + 1)
    )
    assert spec is not None and spec.strategy == "interpolate"
    w_in = np.array([u.w_in.get("x", 0.0) for u in spec.units])
    bias = np.array([u.w_in.get("one", 0.0) for u in spec.units])
    w_out = np.array([u.w_out["w"] for u in spec.units])
    hidden = np.maximum(xs[:, None] * w_in[None, :] + bias[None, :], 0.0)  # [points, units]
    np.testing.assert_allclose(hidden @ w_out, np.arange(n + 1), atol=1e-6)
    assert (hidden * np.abs(w_out)).sum(axis=1).max() <= 1.01 * n


def test_an_output_with_slack_is_decoded_by_fewer_lines_within_it():
    """The program's output is rounded to the nearest value by the unembedding: its MLP
    may miss by a tenth of a gap, and so needs far fewer units than one per point."""
    n = 1024
    xs = np.array([n / (n + w) for w in range(1, n + 1)])
    leaf, codes = Leaf.numerical("x", xs), np.arange(n)[:, None]
    exact = synthesize([leaf], codes, Target.numerical("w"), range(1, n + 1))
    loose = synthesize([leaf], codes, Target.numerical("w", slack=0.1), range(1, n + 1))
    assert exact is not None and loose is not None and loose.strategy == "interpolate"
    assert len(loose.units) < len(exact.units) // 8
    w_in = np.array([u.w_in.get("x", 0.0) for u in loose.units])
    bias = np.array([u.w_in.get("one", 0.0) for u in loose.units])
    w_out = np.array([u.w_out["w"] for u in loose.units])
    out = np.maximum(xs[:, None] * w_in + bias, 0.0) @ w_out
    assert np.abs(out - np.arange(1, n + 1)).max() <= 0.05 + 1e-9


def test_interpolation_refused_where_it_would_pass_on_errors():
    """Points 1e-4 apart whose outputs differ by 1: slopes of 10,000 would pass a leaf's
    rounding on; clamped steps (``axis``) do not."""
    xs = [0.0, 1e-4, 2e-4, 1.0]
    spec = synthesize(
        [Leaf.numerical("x", xs)], np.arange(4)[:, None], Target.numerical("y"), [0, 1, 0, 1]
    )
    assert spec is not None and spec.strategy != "interpolate"


def test_value_sets_of_a_zipmap_whose_inputs_share_a_value_set():
    """tokens and a max over earlier tokens hold one set {a, b, c} at position 1, but the
    max's values overall also include its default 0: each input is sliced by its own."""
    from rasplab import aggregate, indices, select, tokens, zipmap

    earlier_max = aggregate(select(indices, indices, "<"), tokens, default=0, mode="max")
    pair = zipmap(lambda a, b: a + str(b), tokens, earlier_max)
    vs = infer(pair, "abc", 4)
    assert {"ac", "cc", "ca"} <= set(vs.at(pair, 1)) and set(vs.at(pair, 0)) == {"a0", "b0", "c0"}
