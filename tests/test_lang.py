"""The IR and the Python DSL: construction, operators, sugar, immutability."""

import pytest

import rasplab
from rasplab import (
    Comparison,
    Encoding,
    aggregate,
    categorical,
    evaluate,
    full,
    indices,
    key,
    length,
    map,
    numerical,
    query,
    select,
    selector_width,
    tokens,
    zipmap,
)
from rasplab.errors import DefinitionError, RaspError, RaspTypeError
from rasplab.lang.nodes import Aggregate, Map, Select, ZipMap


def test_public_api_is_listed():
    for name in rasplab.__all__:
        assert hasattr(rasplab, name), name


def test_nodes_are_immutable_and_named_copies():
    sel = select(tokens, tokens, "==")
    with pytest.raises(AttributeError):
        sel.keys = indices
    named = sel.named("same")
    assert named.label == "same" and named is not sel and named.id != sel.id
    assert sel.name is None and sel.label.startswith("select_")


def test_labels_are_unique_for_unnamed_nodes():
    a, b = tokens + 1, tokens + 1
    assert a.label != b.label


def test_repr_is_honest():
    agg = aggregate(select(indices, indices, "<"), tokens, default="-").named("prev")
    text = repr(agg)
    assert "prev" in text and "aggregate(select_" in text and "default='-'" in text


@pytest.mark.parametrize(
    "pred, expected",
    [
        ("==", [[True, False], [False, True]]),
        ("!=", [[False, True], [True, False]]),
        ("<", [[False, False], [True, False]]),
        ("<=", [[True, False], [True, True]]),
        (">", [[False, True], [False, False]]),
        (">=", [[True, True], [False, True]]),
        ("true", [[True, True], [True, True]]),
        ("false", [[False, False], [False, False]]),
    ],
)
def test_select_predicates_keys_first(pred, expected):
    # sel[q][k] = pred(key=indices[k], query=indices[q])
    assert evaluate(select(indices, indices, pred), "ab") == expected
    member = Comparison.parse(pred)
    assert evaluate(select(indices, indices, member), "ab") == expected


def test_predicate_names_and_bad_predicate():
    assert Comparison.parse("LEQ") is Comparison.LEQ
    assert Comparison.parse("True") is Comparison.TRUE
    with pytest.raises(DefinitionError, match="unknown select predicate '=<'"):
        select(tokens, tokens, "=<")


def test_custom_callable_predicate():
    sel = select(indices, indices, lambda k, q: abs(k - q) == 1)
    assert evaluate(selector_width(sel), "abcd") == [1, 2, 2, 1]


def test_arithmetic_operators_and_reflected_forms():
    xs = [1, 2, 3]
    cases = {
        tokens + 1: [2, 3, 4],
        1 + tokens: [2, 3, 4],
        tokens - indices: [1, 1, 1],
        10 - tokens: [9, 8, 7],
        tokens * 2: [2, 4, 6],
        2 * tokens: [2, 4, 6],
        tokens / 2: [0.5, 1.0, 1.5],
        6 / tokens: [6.0, 3.0, 2.0],
        tokens // 2: [0, 1, 1],
        7 // tokens: [7, 3, 2],
        tokens % 2: [1, 0, 1],
        7 % tokens: [0, 1, 1],
        tokens**2: [1, 4, 9],
        2**tokens: [2, 4, 8],
        -tokens: [-1, -2, -3],
        +tokens: [1, 2, 3],
        abs(-tokens): [1, 2, 3],
    }
    for sop, expected in cases.items():
        assert evaluate(sop, xs) == expected, sop


def test_comparison_and_logic_operators():
    xs = [1, 2, 3]
    assert evaluate(tokens == 2, xs) == [False, True, False]
    assert evaluate(tokens != 2, xs) == [True, False, True]
    assert evaluate(tokens < indices + 2, xs) == [True, True, True]
    assert evaluate(tokens <= 2, xs) == [True, True, False]
    assert evaluate(tokens > 2, xs) == [False, False, True]
    assert evaluate(tokens >= 2, xs) == [False, True, True]
    assert evaluate((tokens > 1) & (tokens < 3), xs) == [False, True, False]
    assert evaluate((tokens < 2) | (tokens > 2), xs) == [True, False, True]
    assert evaluate(~(tokens == 2), xs) == [True, False, True]
    assert evaluate(True & (tokens == 2), xs) == [False, True, False]
    assert evaluate(False | (tokens == 2), xs) == [False, True, False]


def test_sop_truth_value_is_an_error():
    with pytest.raises(RaspTypeError, match="no single truth value"):
        bool(tokens == 1)
    with pytest.raises(RaspTypeError, match="selector"):
        bool(select(tokens, tokens, "=="))


def test_operator_with_non_atom_names_the_operator():
    with pytest.raises(RaspTypeError, match=r"operator '\+' needs s-ops or atoms.*list"):
        tokens + [1, 2]


def test_map_zipmap_and_atoms_broadcast():
    assert evaluate(map(lambda x: x * 3, tokens), "ab") == ["aaa", "bbb"]
    three = zipmap(lambda a, b, c: f"{a}{b}{c}", tokens, indices, "!")
    assert isinstance(three, ZipMap) and len(three.children) == 3
    assert evaluate(three, "xy") == ["x0!", "y1!"]
    assert evaluate(full(7), "abc") == [7, 7, 7]
    assert evaluate(select(tokens, "a", "=="), "ab") == [[True, False], [True, False]]
    assert evaluate(tokens.map(str.upper), "ab") == ["A", "B"]


def test_selector_combinators():
    lt = select(indices, indices, "<")
    eq = select(tokens, tokens, "==")
    assert evaluate(selector_width(lt & eq), "abab") == [0, 0, 1, 1]
    assert evaluate(selector_width(lt | eq), "abab") == [2, 3, 3, 4]
    assert evaluate(selector_width(~lt), "abc") == [3, 2, 1]


def test_encoding_annotations():
    assert tokens.encoding is Encoding.CATEGORICAL
    num = numerical(aggregate(select(indices, indices, "<="), tokens == "x"))
    assert num.encoding is Encoding.NUMERICAL
    assert categorical(num).encoding is Encoding.CATEGORICAL
    with pytest.raises(RaspTypeError, match="numerical needs an s-op"):
        numerical(select(tokens, tokens, "=="))


def test_aggregate_modes():
    upto = select(indices, indices, "<=")
    xs = [3, 1, 2]
    assert evaluate(aggregate(upto, tokens), xs) == [3, 2.0, 2.0]
    assert evaluate(aggregate(upto, tokens, mode="sum"), xs) == [3, 4, 6]
    assert evaluate(aggregate(upto, tokens, mode="max"), xs) == [3, 3, 3]
    assert evaluate(aggregate(upto, tokens, mode="min"), xs) == [3, 1, 1]
    assert evaluate(aggregate(upto, tokens, mode="max"), "bca") == ["b", "c", "c"]
    with pytest.raises(DefinitionError, match="unknown aggregation mode 'median'"):
        aggregate(upto, tokens, mode="median")


def test_raspy_style_sugar():
    before = key(indices) < query(indices)
    assert isinstance(before, Select) and before.predicate is Comparison.LT
    mirrored = query(indices) > key(indices)
    assert evaluate(mirrored, "abc") == evaluate(before, "abc")
    assert evaluate((key(tokens) == query(tokens)).width(), "aba") == [2, 1, 2]
    assert isinstance(before.value(tokens), Aggregate)
    assert evaluate(before.value(tokens, "-"), [4, 2, 6]) == ["-", 4, 3.0]
    assert evaluate(before.value(tokens, 0, mode="sum"), [4, 2, 6]) == [0, 4, 6]
    with pytest.raises(RaspTypeError, match="needs query"):
        _ = key(tokens) < key(indices)


def test_length_primitive_and_call_shorthand():
    assert length("abcd") == [4, 4, 4, 4]
    assert (tokens + "!")("ab") == ["a!", "b!"]


def test_builders_reject_wrong_kinds():
    with pytest.raises(RaspTypeError, match="aggregate needs a selector"):
        aggregate(tokens, tokens)
    with pytest.raises(RaspTypeError, match="selector_width needs a selector"):
        selector_width(tokens)
    with pytest.raises(RaspTypeError, match="map needs a function"):
        map(3, tokens)
    with pytest.raises(RaspTypeError, match="default must be an atom"):
        aggregate(select(tokens, tokens, "=="), tokens, default=[0])
    with pytest.raises(DefinitionError, match="non-empty string"):
        tokens.named("")
    assert isinstance(Map(abs, tokens), rasplab.SOp)
    assert issubclass(DefinitionError, RaspError)
