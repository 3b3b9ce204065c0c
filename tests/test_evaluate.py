"""Evaluator semantics: types, defaults, batching, traces, and no cross-input caching."""

import numpy as np
import pytest

from rasplab import (
    aggregate,
    evaluate,
    evaluate_batch,
    indices,
    length,
    numerical,
    select,
    selector_width,
    tokens,
)
from rasplab.errors import RaspError

UPTO = select(indices, indices, "<=")
PREV = select(indices, indices - 1, "==")


def typed(values):
    return [(type(v), v) for v in values]


def test_mean_types_follow_the_spec():
    # one selected value keeps its type; several numbers give a float, even equal ints
    out = evaluate(aggregate(UPTO, tokens), [2, 2, 2])
    assert typed(out) == [(int, 2), (float, 2.0), (float, 2.0)]
    assert typed(evaluate(aggregate(UPTO, tokens), [True, True])) == [(bool, True), (bool, True)]


def test_default_when_nothing_selected():
    assert evaluate(aggregate(PREV, tokens), "abc") == [0, "a", "b"]
    assert evaluate(aggregate(PREV, tokens, default=None), "abc") == [None, "a", "b"]
    assert evaluate(aggregate(PREV, tokens, default="-"), "abc") == ["-", "a", "b"]


def test_several_identical_non_numbers_are_that_value():
    assert evaluate(aggregate(select(tokens, tokens, "=="), tokens), "aab") == ["a", "a", "b"]


def test_numerical_aggregate_averages_bools():
    frac = numerical(aggregate(UPTO, numerical(tokens == "x")))
    assert evaluate(frac, "xax") == [True, 0.5, pytest.approx(2 / 3)]


def test_no_result_is_reused_for_a_different_input():
    prog = (tokens * 2).named("double")
    assert typed(evaluate(prog, [1, 0])) == [(int, 2), (int, 0)]
    assert typed(evaluate(prog, [1.0, 0.0])) == [(float, 2.0), (float, 0.0)]
    batch = evaluate_batch(prog, [[1, 0], [1.0, 0.0], [True, False]])
    assert [typed(r) for r in batch] == [
        [(int, 2), (int, 0)],
        [(float, 2.0), (float, 0.0)],
        [(int, 2), (int, 0)],
    ]


def test_batches_bucket_lengths_and_keep_order():
    rev = aggregate(select(indices, length - indices - 1, "=="), tokens)
    inputs = ["abc", "x", [3, 1], "hello", "yz", "q"]
    assert evaluate_batch(rev, inputs) == [
        ["c", "b", "a"],
        ["x"],
        [1, 3],
        list("olleh"),
        ["z", "y"],
        ["q"],
    ]
    assert evaluate_batch(rev, []) == []


def test_large_batches_are_chunked_consistently():
    hist = selector_width(select(tokens, tokens, "=="))
    rng = np.random.default_rng(0)
    inputs = ["".join(rng.choice(list("abc"), size=int(n))) for n in rng.integers(1, 40, 3000)]
    got = evaluate_batch(hist, inputs)
    assert got == [[s.count(c) for c in s] for s in inputs]


def test_trace_exposes_every_intermediate():
    same = select(tokens, tokens, "==").named("same")
    hist = selector_width(same).named("hist")
    shifted = (hist + 1).named("shifted")
    t = evaluate(shifted, "aab", trace=True)
    assert t.output == [3, 3, 2]
    assert t["hist"] == [2, 2, 1]
    assert t[hist] == t["hist"]
    assert t["same"] == [[True, True, False], [True, True, False], [False, False, True]]
    assert t.array("same").dtype == bool
    assert [n.label for n in t][-1] == "shifted" and "tokens" in t and len(t) == 4
    with pytest.raises(RaspError, match="no node labelled 'nope'"):
        t["nope"]
    with pytest.raises(RaspError, match="not part of the program"):
        t[tokens + 1]
    traces = evaluate_batch(shifted, ["ab", "aaa"], trace=True)
    assert [tr["hist"] for tr in traces] == [[1, 1], [3, 3, 3]]


def test_inputs_as_lists_tuples_and_arrays():
    prog = tokens + 1
    assert evaluate(prog, (1, 2)) == [2, 3]
    assert evaluate(prog, np.array([1, 2])) == [2, 3]
    assert evaluate(prog, [1.5, 2]) == [2.5, 3]


def test_selector_evaluates_to_matrix():
    assert evaluate(select(indices, indices, "<"), "ab") == [[False, False], [True, False]]


def test_tuple_values_from_maps_stay_whole():
    pairs = (tokens.map(lambda t: (t, t))).named("pairs")
    assert evaluate(pairs, "ab") == [("a", "a"), ("b", "b")]
    assert evaluate(pairs.map(lambda p: p[0] * 2), "ab") == ["aa", "bb"]


def test_one_batch_may_mix_inputs_of_different_token_types():
    from rasplab.library import PROGRAMS

    entry = PROGRAMS["minimum"]
    inputs = ["hello", [5, 3, 2, 5, 2], "cab", [7.5, -1.0]]
    got = evaluate_batch(entry.build(), inputs)
    assert got == [entry.reference(list(x)) for x in inputs]
