"""Programs written against tracr's ``rasp`` API run with one changed import line."""

import pytest

from rasplab import analyse, evaluate
from rasplab.compat import tracr as rasp
from rasplab.compiler import compile_program
from rasplab.errors import AggregateError, EvaluationError, RaspError
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


# ---------------------------------------------------------------- tracr's semantics, exactly


def detect_ab():
    prev = rasp.Select(rasp.indices, rasp.indices, lambda k, q: q == k + 1)
    was_a = rasp.Aggregate(prev, rasp.tokens == "a", default=None)
    return was_a & (rasp.tokens == "b")


def test_operators_keep_none_and_pythons_and_or():
    assert detect_ab()(["b"]) == [None]
    assert evaluate(detect_ab(), "abab") == [None, True, False, True]
    assert (rasp.tokens & rasp.indices)([3, 0, 2]) == [0, 0, 2]
    assert (rasp.tokens | 5)([3, 0, 2]) == [3, 5, 2]
    assert (5 | rasp.tokens)([3, 0]) == [3, 5]  # tracr's __ror__ is ``x or other``
    assert (0 & rasp.tokens)([3]) == [0]
    assert (rasp.tokens > 1)([0, 1, 2]) == [False, False, True]
    out = (rasp.tokens / 2)([1, 2])
    assert out == [0.5, 1.0] and all(type(v) is float for v in out)


def test_aggregate_follows_tracrs_mean():
    same = rasp.Select(rasp.tokens, rasp.tokens, rasp.Comparison.EQ)
    got = rasp.Aggregate(same, rasp.tokens)([True, True, False])
    assert got == [1.0, 1.0, False] and [type(v) for v in got] == [float, float, bool]
    with pytest.raises(AggregateError, match="rasp.evaluate: aggregate .* selected \\['a', 'a'\\]"):
        rasp.Aggregate(same, rasp.tokens)("aab")
    one = rasp.Aggregate(rasp.Select(rasp.indices, rasp.indices, rasp.Comparison.EQ), rasp.tokens)
    assert [type(v) for v in one([1, 2.0, True])] == [int, float, bool]


def test_comparisons_refuse_none_custom_predicates_see_it():
    shifted = rasp.Aggregate(
        rasp.Select(rasp.indices, rasp.indices, lambda k, q: q == k + 1), rasp.tokens
    )
    with pytest.raises(EvaluationError, match="Comparison.EQ refuses None"):
        rasp.SelectorWidth(rasp.Select(shifted, rasp.tokens, rasp.Comparison.EQ))("ab")
    custom = rasp.Select(shifted, rasp.tokens, lambda k, q: k is None)
    assert rasp.SelectorWidth(custom)("ab") == [1, 1]


def test_keys_come_first_in_select():
    lt = rasp.Select(rasp.tokens, rasp.indices, rasp.Comparison.LT)  # key < query
    assert lt([0, 5, 1]) == [[False, False, False], [True, False, False], [True, False, True]]


def test_selector_combinators_merge_as_tracr_does():
    geq = rasp.Select(rasp.tokens, rasp.indices, rasp.Comparison.GEQ)
    leq = rasp.Select(rasp.tokens, rasp.indices, rasp.Comparison.LEQ)
    merged, kept = rasp.selector_and(geq, leq), rasp.selector_and(geq, leq, simplify=False)
    assert isinstance(merged, rasp.Select) and isinstance(kept, rasp.SelectorAnd)
    assert merged([0, 1, 3]) == kept([0, 1, 3])
    full_key = rasp.Select(rasp.Full(1), rasp.indices, rasp.Comparison.GEQ) & leq
    assert isinstance(full_key, rasp.Select) and full_key.keys is rasp.tokens
    assert isinstance(~geq, rasp.Select) and isinstance(~merged, rasp.Select)


def test_constants_annotations_and_one_map_for_nested_maps():
    assert rasp.ConstantSOp([1, "a"])("xy") == [1, "a"]
    with pytest.raises(EvaluationError, match="rasp.ConstantSOp .* holds 2 positions"):
        rasp.ConstantSOp([1, 2])("xyz")
    assert rasp.ConstantSOp([1, 2], check_length=False)("x") == [1, 2]  # as tracr: unchanged
    assert rasp.ConstantSelector([[1, 0], [1, 1]])("ab") == [[1, 0], [1, 1]]
    nested = rasp.Map(lambda x: x + 2, rasp.tokens * 2)
    assert nested.inner is rasp.tokens and nested([1]) == [4]
    named = rasp.numerical(rasp.tokens + 1).named("plus")
    assert named.annotations == {"name": "plus", "encoding": rasp.Encoding.NUMERICAL}
    assert rasp.is_categorical(rasp.categorical(named)) and named.copy().id != named.id
    assert rasp.annotate(rasp.tokens, name="t").label == "t"


def test_compat_programs_compile():
    model = compile_program(detect_ab(), list("ab"), 5, verify=32)
    assert model(list("abab")) == [None, True, False, True]


# ---------------------------------------------------------------- bad arguments

SEL = rasp.Select(rasp.tokens, rasp.tokens, rasp.Comparison.EQ)
BAD_CALLS = [
    (lambda: rasp.Map(1, rasp.tokens), "rasp.Map\\(f, inner\\): f must be a function, got 1"),
    (lambda: rasp.Map(abs, "abc"), "rasp.Map\\(f, inner\\): inner must be an s-op.*'abc'"),
    (lambda: rasp.SequenceMap(max, rasp.tokens, 3), "rasp.SequenceMap: snd must be an s-op.*3"),
    (
        lambda: rasp.Select(SEL, rasp.tokens, rasp.Comparison.EQ),
        "rasp.Select.*keys must be an s-op",
    ),
    (
        lambda: rasp.Select(rasp.tokens, rasp.tokens, "=="),
        "predicate must be a rasp.Comparison.*'=='",
    ),
    (
        lambda: rasp.Aggregate(rasp.tokens, rasp.tokens),
        "rasp.Aggregate.*selector must be a selector",
    ),
    (
        lambda: rasp.Aggregate(SEL, rasp.tokens, default=[1]),
        "rasp.Aggregate.*default must be.*\\[1\\]",
    ),
    (lambda: rasp.SelectorWidth(rasp.tokens), "rasp.SelectorWidth.*must be a selector.*tokens"),
    (lambda: rasp.selector_and(SEL, rasp.tokens), "rasp.selector_and.*snd must be a selector"),
    (lambda: rasp.numerical(SEL), "rasp.numerical\\(sop\\): sop must be an s-op"),
    (lambda: rasp.categorical(3), "rasp.categorical\\(sop\\): sop must be an s-op.*got 3"),
    (lambda: rasp.Full([1]), "rasp.Full\\(fill\\): fill must be .*\\[1\\]"),
    (lambda: rasp.ConstantSOp("ab"), "rasp.ConstantSOp\\(value\\): value must be a list.*'ab'"),
    (lambda: rasp.ConstantSelector(5), "rasp.ConstantSelector\\(value\\).*got 5"),
    (lambda: rasp.evaluate(3, "ab"), "rasp.evaluate\\(expr, xs\\): expr must be .*got 3"),
    (lambda: rasp.tokens == rasp.indices, "rasp: `sop == other` compares every value.*SequenceMap"),
    (lambda: rasp.tokens + SEL, "rasp: `sop \\+ other` needs an s-op or a value, got the selector"),
    (lambda: rasp.tokens // 2, "rasp: tracr's SOp has no operator '//'"),
    (
        lambda: rasp.tokens.annotated(color="red"),
        "rasp.annotate: got the annotations \\['color'\\]",
    ),
]


@pytest.mark.parametrize(("call", "message"), BAD_CALLS)
def test_wrong_arguments_raise_rasp_errors_naming_the_tracr_function(call, message):
    with pytest.raises(RaspError, match=message):
        call()


def _shifted_back():
    """``length - indices`` and an aggregate that can be None (nothing before position
    0) minus the indices: tracr's operators, one with None in its values."""
    before = rasp.Aggregate(
        rasp.Select(rasp.indices, rasp.indices - 1, rasp.Comparison.EQ), rasp.indices
    )
    return rasp.SequenceMap(
        lambda x, y: (x, y), tracr_style_length() - rasp.indices, before - rasp.indices
    )


def test_operators_on_numbers_are_the_language_s_and_pass_none():
    # + - * of two s-ops: the language's own on numbers (the compiler takes whole arrays
    # there), None where an argument is None, as tracr's lambdas
    from rasplab.compiler.arithmetic import arithmetic_op

    for op in ("__add__", "__sub__", "__mul__", "__radd__", "__rsub__", "__rmul__"):
        node = getattr(rasp.tokens, op)(rasp.indices)
        assert arithmetic_op(node.f) is not None and node.f(None, 2) is None
    assert arithmetic_op((rasp.tokens / rasp.indices).f) is None
    assert arithmetic_op(rasp.SequenceMap(lambda x, y: x - y, rasp.tokens, rasp.indices).f) is None
    assert _shifted_back()([0, 0, 0]) == [None, (2, -1), (1, -1)]


@pytest.mark.parametrize("n", [3, 9, 40])
def test_value_sets_of_tracr_arithmetic_are_those_found_value_by_value(n, monkeypatch):
    from rasplab.compiler import arithmetic, domains, value_bulk, value_maps
    from rasplab.compiler.value_sets import infer

    program = _shifted_back()
    fast = infer(program, [0, 1], n)
    for module in (arithmetic, domains, value_bulk, value_maps):  # every shortcut off
        monkeypatch.setattr(module, "arithmetic_op", lambda f: None)
    slow = infer(program, [0, 1], n)
    for node in (program, *program.children):
        assert [fast.at(node, i) for i in range(n)] == [slow.at(node, i) for i in range(n)]
