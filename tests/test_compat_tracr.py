"""Programs written against tracr's ``rasp`` API run with one changed import line."""

import pytest

from rasplab import analyse, evaluate
from rasplab.compat import tracr as rasp
from rasplab.library.references import ref_hist, ref_reverse, ref_sort


def tracr_style_length():
    all_true = rasp.Select(rasp.tokens, rasp.tokens, rasp.Comparison.TRUE)
    return rasp.SelectorWidth(all_true).named("length")


def tracr_style_reverse():
    n = tracr_style_length()
    opp = rasp.SequenceMap(lambda x, y: x - y, n, rasp.indices).named("opp")
    opp = rasp.Map(lambda x: x - 1, opp).named("opp_idx")
    flip = rasp.Select(rasp.indices, opp, rasp.Comparison.EQ).named("flip")
    return rasp.Aggregate(flip, rasp.tokens).named("reverse")


def tracr_style_hist():
    same = rasp.Select(rasp.tokens, rasp.tokens, rasp.Comparison.EQ)
    return rasp.SelectorWidth(same).named("hist")


def tracr_style_sort_unique(vals, keys):
    smaller = rasp.Select(keys, keys, rasp.Comparison.LT)
    target = rasp.SelectorWidth(smaller)
    sel_new = rasp.Select(target, rasp.indices, rasp.Comparison.EQ)
    return rasp.Aggregate(sel_new, vals)


def tracr_style_frac_prevs(token):
    flags = rasp.numerical(rasp.Map(lambda t: t == token, rasp.tokens))
    prevs = rasp.Select(rasp.indices, rasp.indices, rasp.Comparison.LEQ)
    return rasp.numerical(rasp.Aggregate(prevs, flags, default=0))


@pytest.mark.parametrize("xs", ["abc", "hello", "x"])
def test_reverse_and_hist(xs):
    assert evaluate(tracr_style_reverse(), xs) == ref_reverse(list(xs))
    assert tracr_style_hist()(xs) == ref_hist(list(xs))
    assert rasp.evaluate(tracr_style_length(), xs) == [len(xs)] * len(xs)


def test_sort_unique_and_numerical_frac_prevs():
    assert tracr_style_sort_unique(rasp.tokens, rasp.tokens)([3, 1, 2]) == ref_sort([3, 1, 2])
    assert tracr_style_frac_prevs("x")("xax") == [True, 0.5, pytest.approx(2 / 3)]
    assert rasp.is_numerical(tracr_style_frac_prevs("x"))


def test_aggregate_default_none_and_maps_pass_none_through():
    prev = rasp.Select(rasp.indices, rasp.Map(lambda i: i - 1, rasp.indices), rasp.Comparison.EQ)
    shifted = rasp.Aggregate(prev, rasp.tokens)
    assert shifted("abc") == [None, "a", "b"]
    assert rasp.Map(lambda t: t.upper(), shifted)("abc") == [None, "A", "B"]


def test_map_simplify_composes_functions():
    twice = rasp.Map(lambda x: x * 2, rasp.Map(lambda x: x + 1, rasp.tokens))
    assert twice.inner is rasp.tokens and twice([1, 2]) == [4, 6]
    kept = rasp.Map(lambda x: x * 2, rasp.Map(lambda x: x + 1, rasp.tokens), simplify=False)
    assert isinstance(kept.inner, rasp.Map) and kept([1, 2]) == [4, 6]


def test_selector_combinators_full_and_linear_maps():
    lt = rasp.Select(rasp.indices, rasp.indices, rasp.Comparison.LT)
    eq = rasp.Select(rasp.tokens, rasp.tokens, rasp.Comparison.EQ)
    both = rasp.selector_and(lt, eq)
    assert rasp.SelectorWidth(both)("abab") == [0, 0, 1, 1]
    assert rasp.SelectorWidth(rasp.selector_or(lt, eq))("ab") == [1, 2]
    assert rasp.SelectorWidth(rasp.selector_not(lt))("ab") == [2, 1]
    assert rasp.Full(3)("ab") == [3, 3] and rasp.Full(3).fill == 3
    lin = rasp.LinearSequenceMap(rasp.tokens, rasp.indices, 2, -1)
    assert lin([5, 5]) == [10, 9] and lin.fst is rasp.tokens and lin.snd is rasp.indices


def test_custom_predicates_and_tuple_values():
    near = rasp.Select(rasp.indices, rasp.indices, lambda k, q: abs(k - q) <= 1)
    assert rasp.SelectorWidth(near)("abcd") == [2, 3, 3, 2]
    pair = rasp.SequenceMap(lambda a, b: (a, b), rasp.tokens, rasp.indices)
    assert rasp.Map(lambda p: p[0] * p[1], pair)("ab") == ["", "b"]


def test_compat_programs_are_ordinary_ir():
    assert analyse(tracr_style_reverse()).heads_per_layer == (1, 1)
    assert rasp.get_encoding(rasp.tokens) is rasp.Encoding.CATEGORICAL
    assert rasp.is_categorical(tracr_style_hist())
