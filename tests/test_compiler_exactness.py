"""Exactness where tracr fails: long counts, averages of any numbers, defaults, selector logic."""

from __future__ import annotations

import numpy as np
import pytest

from rasplab import (
    aggregate,
    indices,
    length,
    map,
    numerical,
    select,
    selector_width,
    tokens,
    zipmap,
)
from rasplab.compiler import compile_program, verify


def exact(model, program, inputs=None, n=60):
    for dtype in (np.float32, np.float64):
        result = verify(model, program, n, dtype=dtype, inputs=inputs)
        assert result.exact, str(result)


@pytest.mark.parametrize("n", [128])
def test_selector_width_exact_at_128(n):
    hist = selector_width(select(tokens, tokens, "=="))
    model = compile_program(hist, "ab", n, verify=0)
    worst = [["a"] * n, ["a"] * (n - 1) + ["b"], ["a", "b"] * (n // 2), ["b"]]
    exact(model, hist, worst)
    exact(model, hist, n=20)


def test_length_exact_at_128():
    model = compile_program(length, "ab", 128, verify=0)
    exact(model, length, [["a"] * k for k in (1, 2, 63, 64, 127, 128)])


def test_prefix_count_exact_at_128():
    earlier = selector_width(select(tokens, "a", "==") & select(indices, indices, "<="))
    model = compile_program(earlier, "ab", 128, verify=0)
    exact(model, earlier, [["a"] * 128, ["b"] * 127 + ["a"]], n=20)


def test_count_of_a_count_exact_at_64():
    """A count over one-hots decoded from another count (double_hist's second layer)."""
    counts = selector_width(select(tokens, tokens, "=="))
    same_count = selector_width(select(counts, counts, "=="))
    model = compile_program(same_count, "abc", 64, verify=0)
    exact(model, same_count, [["a"] * 64, ["a"] * 32 + ["b"] * 31 + ["c"]], n=20)


def test_numerical_mean_of_any_numbers():
    weight = numerical(map(lambda t: {"a": 0.5, "b": -2.0, "c": 3.25}[t], tokens))
    running = numerical(aggregate(select(indices, indices, "<="), weight, default=0))
    model = compile_program(running, "abc", 12, verify=0)
    assert model.output.kind == "numerical"
    exact(model, running)


def test_categorical_default_that_is_not_zero_or_none():
    shifted = aggregate(select(indices, indices - 1, "=="), tokens, default="z")
    model = compile_program(shifted, "abc", 10, verify=0)
    exact(model, shifted)
    assert model("ab") == ["z", "a"]


def test_default_none_is_its_own_value():
    shifted = aggregate(select(indices, indices + 2, "=="), tokens, default=None)
    model = compile_program(shifted, "abc", 10, verify=0)
    exact(model, shifted)
    assert model("abc") == ["c", None, None]


def test_selector_and_or_not_in_one_head():
    up_to = select(indices, indices, "<") | select(indices, indices, "==")
    other_token = ~select(tokens, tokens, "==")
    count = selector_width(up_to & other_token)
    model = compile_program(count, "abc", 10, verify=0)
    exact(model, count)
    assert model.heads_per_layer == (1,)


def test_any_selector_logic_compiles_exactly():
    """An 'or' no head computes directly is still exact (its s-ops are combined first)."""
    a_or_earlier = select(tokens, "a", "==") | ~select(indices, indices, ">=")
    count = selector_width(a_or_earlier & select(tokens, tokens, "!="))
    model = compile_program(count, "abc", 10, verify=0)
    exact(model, count)
    mean = numerical(aggregate(a_or_earlier, numerical(map(lambda t: t == "b", tokens))))
    exact(compile_program(mean, "abc", 8, verify=0), mean)


def test_custom_predicate_and_nary_zipmap():
    near = select(indices, indices, lambda k, q: abs(k - q) <= 1)
    window = selector_width(near)
    combo = zipmap(lambda t, i, w: f"{t}{(i + w) % 3}", tokens, indices, window)
    model = compile_program(combo, "ab", 9, verify=0)
    exact(model, combo)
    assert model.n_layers == 1


def test_fused_maps_cost_one_mlp():
    x = map(lambda t: ord(t) % 5, tokens)
    chain = map(lambda v: v * 3, map(lambda v: v + 1, selector_width(select(x, x, "<"))))
    model = compile_program(chain, "abcde", 8, verify=0)
    assert model.n_layers == 1
    exact(model, chain)


def test_reverse_at_40_is_exact_and_two_layers():
    reverse = aggregate(select(indices, length - indices - 1, "=="), tokens)
    model = compile_program(reverse, "abcde", 40, verify=0)
    assert model.n_layers == 2
    exact(model, reverse, n=80)


def test_compile_verifies_by_default():
    model = compile_program(selector_width(select(tokens, tokens, "<")), "abc", 6)
    assert model.info.verified.n_exact == model.info.verified.n_inputs > 0


@pytest.mark.parametrize(
    "program",
    [
        tokens,
        indices,
        map(str.upper, tokens),
        numerical(map(lambda t: ord(t) / 2, tokens)),
        zipmap(lambda t, i: t * i, tokens, indices),
        length - 1,
    ],
    ids=["tokens", "indices", "map", "numerical-map", "token-index-zipmap", "length-1"],
)
def test_programs_without_attention_or_with_only_maps(program):
    model = compile_program(program, "ab", 5, verify=0)
    exact(model, program, n=30)


def test_constants_and_means_of_constants():
    from rasplab import full

    for program in (full(3), numerical(full(2.5))):
        model = compile_program(program, "ab", 5, verify=0)
        assert model("abb") == [program.value] * 3
    mean = numerical(aggregate(select(indices, indices, "<"), numerical(full(2.5)), default=-1))
    model = compile_program(mean, "ab", 5, verify=0)
    assert model("abb") == [-1, 2.5, 2.5]


@pytest.mark.parametrize("mode", ["max", "min", "sum"])
def test_aggregation_modes(mode):
    values = tokens.map(lambda t: ord(t) - 96)
    running = aggregate(select(indices, indices, "<="), values, default=0, mode=mode)
    model = compile_program(running, "abcde", 10, verify=0)
    exact(model, running)
    others = aggregate(select(tokens, tokens, "!="), tokens, default="-", mode=mode)
    if mode != "sum":
        model = compile_program(others, "abcde", 24, verify=0)
        exact(model, others, [list("aaaa"), list("abcde" * 4)])


def test_length_reads_positions_as_one_number():
    """Without indices elsewhere, length's head reads one scalar, not n one-hot directions."""
    model = compile_program(length, "ab", 40, verify=0)
    assert model.directions == ("bos", "one", "indices", "length")
    exact(model, length, n=40)


def test_count_output_is_read_by_the_unembedding():
    """hist's head stores B / (B + width); the unembedding turns that one number into one
    logit per width, so no MLP decodes it."""
    hist = selector_width(select(tokens, tokens, "==")).named("hist")
    model = compile_program(hist, "abc", 16, verify=0)
    assert model.directions[-1] == "hist.attn" and model.d_mlp_per_layer == (0,)
    assert model.output.kind == "categorical" and model.W_U.shape[1] == 16
    inputs = np.array([[0, 1, 1, 2, 1, 3, 3, 3] * 2])  # BOS is 0: tokens a, b, c are 1-3
    logits = model.forward(np.concatenate([[[0]], inputs], axis=1))[0, 1:]  # [pos, values]
    top2 = np.sort(logits, axis=-1)[:, -2:]
    assert np.all(top2[:, 1] - top2[:, 0] > 0.5)  # the nearest value wins clearly
    exact(model, hist, n=40)


def test_number_output_gets_logits_from_one_scalar():
    """A map of a count is stored as one number (no one-hot directions); the unembedding
    still gives one logit per value."""
    twice = selector_width(select(tokens, tokens, "==")).map(lambda w: 2 * w).named("twice")
    model = compile_program(twice, "abc", 16, verify=0)
    assert "twice" in model.directions
    assert not any(d.startswith("twice:") for d in model.directions)
    assert model.output.kind == "categorical" and model.W_U.shape[1] == 16
    exact(model, twice, n=40)


def test_string_and_bool_outputs_stay_one_hot():
    flag = selector_width(select(tokens, tokens, "==")) > 1
    model = compile_program(flag, "abc", 8)
    assert model.W_U.shape[1] == 2 and not model.info.notes


def test_output_aggregate_moves_numbers_as_one_scalar():
    """A value moved from the next position (0 where there is none) is written as one
    number; the logits still cover every value, the default included."""
    nxt = aggregate(select(indices, indices + 1, "=="), tokens, default=0).named("nxt")
    model = compile_program(nxt, [1, 2, 3], 24, verify=0)
    assert "nxt" in model.directions and not any(d.startswith("nxt:") for d in model.directions)
    assert model.output.kind == "categorical" and sorted(model.output.values) == [0, 1, 2, 3]
    exact(model, nxt, [[3] * 24, [1], [2, 1, 3]], n=40)


def test_rare_short_averages_are_seen():
    """Two tokens above the length pick two keys: rare among random inputs, but every
    input of length 2 is observed, so the aggregate averages instead of moving one value."""
    above = aggregate(select(tokens, length, ">"), indices)
    model = compile_program(above, [0, 1, 2, 3], 5)
    assert not model.info.assumptions
    exact(model, above, [[3, 3], [3, 3, 3, 3], [0, 3]])


def test_a_rewritten_aggregate_shares_its_decision_without_changing_the_policy():
    """Stage 3 rebuilds nodes; the policy answers a rebuilt aggregate as the one it came
    from, through a view given the origin, not by being changed from outside."""
    from rasplab.compiler.encodings import AggregatePolicy
    from rasplab.library import get

    first = get("first").build()
    policy = AggregatePolicy(first, "abcde", 6)
    pool, widths = [0, 1, 2], (frozenset({0, 1, 2}),) * 6
    decided = policy(first, pool, widths)
    rebuilt = aggregate(first.selector, first.sop)  # a new node standing for ``first``
    ask = policy.through({rebuilt.id: first})
    assert ask(rebuilt, pool, widths) == decided == "select"
    assert list(policy.decided) == [first.id]  # one decision, shared
    assert not hasattr(policy, "origin")
