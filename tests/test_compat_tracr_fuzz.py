"""Random programs from ``rasplab.compat.tracr``'s API against a plain-Python model of tracr's rules.

Hypothesis draws a program as a small tree (operators with values and with
s-ops, maps, sequence maps, selects with every comparison, selector and/or/not,
aggregates with each kind of default, selector widths). The tree is built with
the compat API and also evaluated here, position by position, by
``reference``: tracr's semantics written out (maps pass ``None``; ``&`` is
``x and y``; an aggregate averages several numbers with ``sum / len`` and
refuses several non-numbers; a ``Comparison`` refuses ``None``). Values are
compared with their types; inputs that a side rejects are counted apart.
"""

from __future__ import annotations

import operator
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rasplab.compat import tracr as rasp
from rasplab.errors import RaspError

COMPARISONS = list(rasp.Comparison)
CONSTANT_OPS = {
    "<": lambda x, c: x < c,
    "<=": lambda x, c: x <= c,
    "==": lambda x, c: x == c,
    "!=": lambda x, c: x != c,
    ">": lambda x, c: x > c,
    ">=": lambda x, c: x >= c,
    "+": lambda x, c: x + c,
    "-": lambda x, c: x - c,
    "*": lambda x, c: x * c,
    "&": lambda x, c: x and c,
    "|": lambda x, c: x or c,
    "r+": lambda x, c: c + x,
    "r-": lambda x, c: c - x,
    "r&": lambda x, c: c and x,
    "r|": lambda x, c: x or c,  # tracr's __ror__ writes ``x or other``
}
PAIR_OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul}
PAIR_OPS.update({"&": lambda x, y: x and y, "|": lambda x, y: x or y})
CONSTANTS = st.sampled_from([0, 1, 2, True, False, 0.5])


def _sops() -> Any:
    leaves = st.one_of(
        st.tuples(st.sampled_from(["tokens", "indices", "length"])),
        st.tuples(st.just("full"), CONSTANTS),
    )

    def grow(sop: Any) -> Any:
        sel = _selectors(sop)
        return st.one_of(
            st.tuples(st.just("const_op"), st.sampled_from(sorted(CONSTANT_OPS)), sop, CONSTANTS),
            st.tuples(st.just("pair_op"), st.sampled_from(sorted(PAIR_OPS)), sop, sop),
            st.tuples(st.just("invert"), sop),
            st.tuples(
                st.just("aggregate"), sel, sop, st.sampled_from([None, 0, 1.5]), st.booleans()
            ),
            st.tuples(st.just("width"), sel),
        )

    return st.recursive(leaves, grow, max_leaves=6)


def _selectors(sop: Any) -> Any:
    select = st.tuples(st.just("select"), sop, sop, st.sampled_from(COMPARISONS))
    return st.one_of(
        select,
        st.tuples(st.sampled_from(["and", "or"]), select, select),
        st.tuples(st.just("not"), select),
    )


PROGRAMS = _sops()
INPUTS = st.lists(st.integers(0, 3), min_size=1, max_size=5)


def build(tree: tuple[Any, ...]) -> Any:
    """The tree as a compat program, written as a tracr user writes it."""
    kind, *args = tree
    if kind in ("tokens", "indices", "length"):
        return getattr(rasp, kind)
    if kind == "full":
        return rasp.Full(args[0])
    if kind == "const_op":
        op, sop, c = args[0], build(args[1]), args[2]
        return _apply_constant(op, sop, c)
    if kind == "pair_op":
        return _apply_pair(args[0], build(args[1]), build(args[2]))
    if kind == "invert":
        return ~build(args[0])
    if kind == "aggregate":
        agg = rasp.Aggregate(build(args[0]), build(args[1]), default=args[2])
        return rasp.numerical(agg) if args[3] else agg
    if kind == "width":
        return rasp.SelectorWidth(build(args[0]))
    if kind == "select":
        return rasp.Select(build(args[0]), build(args[1]), args[2])
    if kind == "not":
        return ~build(args[0])
    fst, snd = build(args[0]), build(args[1])
    return fst & snd if kind == "and" else fst | snd


def _apply_constant(op: str, sop: Any, c: Any) -> Any:
    table = {
        "<": lambda: sop < c,
        "<=": lambda: sop <= c,
        "==": lambda: sop == c,
        "!=": lambda: sop != c,
        ">": lambda: sop > c,
        ">=": lambda: sop >= c,
        "+": lambda: sop + c,
        "-": lambda: sop - c,
        "*": lambda: sop * c,
        "&": lambda: sop & c,
        "|": lambda: sop | c,
        "r+": lambda: c + sop,
        "r-": lambda: c - sop,
        "r&": lambda: c & sop,
        "r|": lambda: c | sop,
    }
    return table[op]()


def _apply_pair(op: str, a: Any, b: Any) -> Any:
    return {"+": a + b, "-": a - b, "*": a * b, "&": a & b, "|": a | b}[op]


def reference(tree: tuple[Any, ...], xs: list[Any]) -> Any:
    """tracr's evaluation rules, position by position, straight from the tree."""
    kind, *args = tree
    n = len(xs)
    if kind in ("tokens", "indices", "length", "full"):
        primitives = {"tokens": list(xs), "indices": list(range(n)), "length": [n] * n}
        return primitives[kind] if kind in primitives else [args[0]] * n
    if kind == "const_op":
        f, c = CONSTANT_OPS[args[0]], args[2]
        return [None if x is None else f(x, c) for x in reference(args[1], xs)]
    if kind == "pair_op":
        f = PAIR_OPS[args[0]]
        pairs = zip(reference(args[1], xs), reference(args[2], xs), strict=True)
        return [None if x is None or y is None else f(x, y) for x, y in pairs]
    if kind == "invert":
        return [None if x is None else not x for x in reference(args[0], xs)]
    if kind == "width":
        return [sum(row) for row in _reference_selector(args[0], xs)]
    rows, values, default = _reference_selector(args[0], xs), reference(args[1], xs), args[2]
    return [_tracr_mean([v for s, v in zip(r, values, strict=True) if s], default) for r in rows]


def _tracr_mean(picked: list[Any], default: Any) -> Any:
    if not picked:
        return default
    if len(picked) == 1:
        return picked[0]
    if not all(isinstance(v, int | float) for v in picked):  # bools are ints
        raise ValueError(f"cannot average {picked!r}")
    return sum(picked) / len(picked)


def _reference_selector(tree: tuple[Any, ...], xs: list[Any]) -> list[list[bool]]:
    kind, *args = tree
    if kind == "select":
        keys, queries, pred = reference(args[0], xs), reference(args[1], xs), args[2]
        if None in keys + queries:
            raise ValueError("a Comparison refuses None")
        return [[bool(pred(k, q)) for k in keys] for q in queries]
    if kind == "not":
        return [[not v for v in row] for row in _reference_selector(args[0], xs)]
    fst, snd = _reference_selector(args[0], xs), _reference_selector(args[1], xs)
    combine = (lambda a, b: a and b) if kind == "and" else (lambda a, b: a or b)
    return [
        [combine(a, b) for a, b in zip(r, s, strict=True)] for r, s in zip(fst, snd, strict=True)
    ]


def typed(values: Any) -> Any:
    return [(type(v), v) for v in values]


OUTCOMES: Counter[str] = Counter()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=PROGRAMS, inputs=st.lists(INPUTS, min_size=1, max_size=4))
def test_random_compat_programs_follow_tracrs_rules(tree, inputs):
    program = build(tree)
    for xs in inputs:
        try:
            expected = typed(reference(tree, xs))
        except (ValueError, TypeError):
            expected = None
        try:
            got = typed(rasp.evaluate(program, xs))
        except RaspError:
            got = None
        if expected is None or got is None:
            OUTCOMES["rejected by both" if expected is got else "one side rejects"] += 1
            assert expected is got, (tree, xs, expected, got)
            continue
        OUTCOMES["compared"] += 1
        assert got == expected, (tree, xs)


def test_the_random_programs_compared_values():
    # Runs after the property above (file order): most inputs gave values on both sides.
    if not OUTCOMES:
        test_random_compat_programs_follow_tracrs_rules()
    assert OUTCOMES["one side rejects"] == 0
    assert OUTCOMES["compared"] > 2 * OUTCOMES["rejected by both"], OUTCOMES
