"""Stage 3: a count over a wide order of integers, as counts over their two digits.

A head that counts ``select(indices, indices, "<")`` (sort's tie-break, or a
prefix where no causal mask keeps it) needs every selected key to score the
same, which a comparison of two numbers cannot give: it tests the values
one-hot, ``n`` residual directions for ``n`` positions, and the MLPs reading
the residual grow as ``n^2``. Written in base ``b = isqrt(span) + 1``, with
``h = (i - o) // b`` and ``l = (i - o) % b``,

    ``k < q``  exactly when  ``h_k < h_q``, or ``h_k == h_q`` and ``l_k < l_q``:

two parts that never hold together, each a test of one-hot digits of about
``sqrt(n)`` values. The count becomes the sum of the parts' counts (one head
each, :mod:`.split_widths`), and the digits are read from the position (or
token) embedding: ``2 b`` directions instead of ``n``. An equality of the
same two s-ops in the selector is tested on the same digits, so that its
parts are seen never to hold together.

An order is split only where a side holds more than ``ORDER_DIGITS_ABOVE``
integers: a count in parts adds heads and a sum, and the sum's float32 error
is larger, which a later select comparing it as a number may not allow
(``ralign`` at 160 positions so split drifted on 62 of 64 sampled inputs,
against 5 whole). Past 256 values one-hot is the larger cost. The digits of
s-ops of positions alone or of tokens alone are read from the embeddings.
Those of a computed number (most_freq's key, minus a count) are written by
the chain of :func:`.digits.number_digit`: its high digit cut and copied
through thresholds, its low one read beside it: exact in float32 while the
number's own error stays well under half a unit. Written by one MLP each, they
drifted: most_freq's key so split at 512 positions got 43 of 64 sampled
inputs wrong in float32.

>>> from rasplab import indices, select
>>> from rasplab.compiler.selectors import formula
>>> made = {}
>>> def digit(sop, offset, base, place):
...     return made.setdefault(place, digit_node(sop, offset, base, place))
>>> digits = digit_formula(formula(select(indices, indices, "<")), (0, 4), digit)
>>> [type(p).__name__ for p in disjunctive_parts(digits, 8)]
['Literal', 'All']
>>> def env(k, q):  # each digit s-op's value at the key and at the query
...     return {(s, d.id): d.f(v) for d in made.values() for s, v in (("k", k), ("q", q))}
>>> [holds(digits, env(k, q)) for k, q in [(3, 5), (5, 3), (4, 4), (1, 12), (13, 12)]]
[True, False, False, True, False]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import product
from typing import Any, Protocol

from ..lang.enums import Comparison
from ..lang.graph import ATTENTION
from ..lang.nodes import Indices, Map, Node, SOp, Tokens
from .causal import under_mask
from .digits import digit_map, number_digit
from .formulas import All, AnyOf, Literal, Truth, holds  # noqa: F401 (the doctest)
from .positional import primitives_below
from .selectors import Score
from .split_widths import split_parts
from .value_sets import ValueSets

__all__ = [
    "digit_formula",
    "disjunctive_parts",
    "order_literal",
    "digit_node",
    "digit_parts",
    "split_orders",
    "embedded_nodes",
    "ORDER_DIGITS_ABOVE",
]

ORDERS = (Comparison.LT, Comparison.LEQ, Comparison.GT, Comparison.GEQ)
_NEGATION = {
    Comparison.LT: Comparison.GEQ,
    Comparison.LEQ: Comparison.GT,
    Comparison.GT: Comparison.LEQ,
    Comparison.GEQ: Comparison.LT,
}
_STRICT = {  # the high digits decide where they differ: the strict form of the order
    Comparison.LT: Comparison.LT,
    Comparison.LEQ: Comparison.LT,
    Comparison.GT: Comparison.GT,
    Comparison.GEQ: Comparison.GT,
}

MAX_PARTS = 8  # heads one count may take once its orders are in digits
ORDER_DIGITS_ABOVE = 256  # positions compared one-hot up to this many values a side

Digit = Callable[[SOp, int, int, int], SOp]  # (s-op, offset, base, place) -> its digit


def order_literal(lit: Literal) -> Comparison | None:
    """The order ``lit`` tests of its key against its query (its negation undone), if any."""
    if lit.constant is not None or lit.merged is not None or lit.key is None or lit.query is None:
        return None
    if lit.predicate not in ORDERS:
        return None
    return _NEGATION[lit.predicate] if lit.negated else lit.predicate


def digit_formula(f: Any, split: tuple[int, int], digit: Digit) -> Any:
    """``f``, an order literal, as the 'or' of its two digit parts (module docstring);
    ``split``: ``(offset, base)``; ``digit`` makes (or finds) the digit s-ops."""
    order = order_literal(f)
    assert order is not None, f"{f.label} is not an order of two s-ops"
    offset, base = split
    high = [digit(s, offset, base, 1) for s in (f.key, f.query)]
    low = [digit(s, offset, base, 0) for s in (f.key, f.query)]
    strict = _digit_literal(high, _STRICT[order], f.label, "high")
    same = _digit_literal(high, Comparison.EQ, f.label, "high")
    last = _digit_literal(low, order, f.label, "low")
    return AnyOf((strict, All((same, last))))


def _digit_literal(sides: list[SOp], order: Comparison, label: str, tag: str) -> Literal:
    key, query = sides
    return Literal(query, key, order, f"{label}.{tag}{order.value}", order)


def disjunctive_parts(f: Any, limit: int) -> list[Any] | None:
    """``f`` as an 'or' of conjunctions ('and' distributed over 'or'); None past ``limit``
    parts. Parts that can never hold are dropped; ``True`` conjuncts are left out."""
    found: list[Any] = []
    for conjuncts in _dnf(f, limit):
        if any(isinstance(c, Truth) and not c.value for c in conjuncts):
            continue
        kept = tuple(c for c in conjuncts if not isinstance(c, Truth))
        found.append(kept[0] if len(kept) == 1 else All(kept) if kept else Truth(True))
    return found if 0 < len(found) <= limit else None


def _dnf(f: Any, limit: int) -> list[list[Any]]:
    if isinstance(f, AnyOf):
        return [c for kid in f.children for c in _dnf(kid, limit)][: limit + 1]
    if isinstance(f, All):
        out: list[list[Any]] = [[]]
        for kid in f.children:
            out = [a + b for a, b in product(out, _dnf(kid, limit))][: limit + 1]
        return out
    return [[f]]


def digit_node(sop: SOp, offset: int, base: int, place: int) -> Map:
    """The digit map of ``sop`` (:func:`.digits.digit_map`), named for its base."""
    return digit_map(sop, offset, base, place, f"{sop.label}.{('low', 'high')[place]}{base}")


def split_orders(
    f: Any, split: Callable[[Literal], tuple[int, int] | None], digit: Digit
) -> tuple[Any, list[tuple[Literal, int]]] | None:
    """``f`` with every order literal that ``split`` gives ``(offset, base)`` for written in
    digits, and those literals with their bases; None where there is none. Equalities of
    the same pair of s-ops are written in the same digits, so that the parts' tests of
    one pair can be seen never to hold together (``k == q`` and ``h_k < h_q``)."""
    found: list[tuple[Literal, int]] = []
    pairs: dict[tuple[int, int], tuple[int, int]] = {}

    def find(g: Any) -> None:
        if isinstance(g, Literal) and order_literal(g) is not None:
            where = split(g)
            if where is not None:
                found.append((g, where[1]))
                pairs[_pair(g)] = where
        for kid in getattr(g, "children", ()):
            find(kid)

    def walk(g: Any) -> Any:
        if isinstance(g, All | AnyOf):
            return type(g)(tuple(walk(c) for c in g.children))
        if not isinstance(g, Literal) or _pair(g) not in pairs:
            return g
        if order_literal(g) is not None:
            return digit_formula(g, pairs[_pair(g)], digit)
        return _digit_equality(g, pairs[_pair(g)], digit) if _plain_equality(g) else g

    find(f)
    return (walk(f), found) if found else None


def _pair(lit: Literal) -> tuple[int, int]:
    return (getattr(lit.key, "id", -1), getattr(lit.query, "id", -1))


def _plain_equality(lit: Literal) -> bool:
    plain = lit.constant is None and lit.merged is None and not lit.negated
    return plain and lit.predicate is Comparison.EQ


def _digit_equality(lit: Literal, split: tuple[int, int], digit: Digit) -> All:
    """``k == q`` as ``h_k == h_q`` and ``l_k == l_q``."""
    offset, base = split
    assert lit.key is not None and lit.query is not None  # an equality of two s-ops
    sides = [[digit(s, offset, base, place) for s in (lit.key, lit.query)] for place in (1, 0)]
    tags = ("high", "low")
    pairs = zip(sides, tags, strict=True)
    return All(tuple(_digit_literal(d, Comparison.EQ, lit.label, t) for d, t in pairs))


class _Lowering(Protocol):
    vs: ValueSets
    notes: list[str]
    count_scales: dict[int, float]
    far_counts: str | None  # why every count keeps B = n, where it does
    causal: bool
    embedded: frozenset[int]  # s-ops of positions alone or of tokens alone, no head below
    new: dict[int, Node]
    digit_nodes: dict[tuple[int, int, int, int], SOp]
    number_digits: dict[tuple[int, int, int, int], SOp]  # the digit chains of computed numbers
    extra_values: dict[int, list[Any]]  # value sets of the digit s-ops

    def values_of(self, node: SOp) -> list[Any]: ...

    def kid(self, node: Any) -> Any: ...

    def score(self, f: Any, exact: bool) -> Score | None: ...

    def exclusive(self, a: Any, b: Any) -> bool: ...


def digit_parts(lowering: _Lowering, f: Any) -> tuple[list[Any], list[tuple[Literal, int]]] | None:
    """The parts of count formula ``f`` once its wide orders of positions are in digits
    (each part one exact head, no two holding together), and the orders split; None
    where ``f`` has no such order or its parts do not make exact heads."""

    def digit(sop: SOp, offset: int, base: int, place: int) -> SOp:
        key = (sop.id, offset, base, place)
        if key not in lowering.digit_nodes:
            plain = digit_node(sop, offset, base, place)
            values = sorted({plain.f(v) for v in lowering.values_of(sop)})
            node: SOp = plain
            rebuilt = lowering.kid(sop)
            if sop.id not in lowering.embedded:  # an MLP writes it: exactly, by a chain
                chains = lowering.number_digits
                node = number_digit(rebuilt, (offset, base, place), chains, frozenset())
                lowering.new[node.id] = node
            else:
                lowering.new[node.id] = node if rebuilt is sop else node._copy(inner=rebuilt)
            lowering.digit_nodes[key] = node
            lowering.extra_values[node.id] = values
        return lowering.digit_nodes[key]

    limit = ORDER_DIGITS_ABOVE  # read now: tests lower it
    found = split_orders(f, lambda lit: _split(lowering, lit, limit), digit)
    if found is None:
        return None
    parts = disjunctive_parts(found[0], MAX_PARTS)
    if parts is None or len(parts) < 2:
        return None
    kept = split_parts(lowering, AnyOf(tuple(parts)))
    return (kept, found[1]) if kept is not None else None


def _split(lowering: _Lowering, lit: Literal, above: int) -> tuple[int, int] | None:
    """``(offset, base)`` for an order of two s-ops of more than ``above`` integers a
    side, else None."""
    assert lit.key is not None and lit.query is not None
    if lowering.causal and under_mask(lit) is not lit:
        return None  # the causal mask tests it, at no cost
    try:
        sides = [lowering.values_of(s) for s in (lit.key, lit.query)]
    except LookupError:
        return None
    if max(len(v) for v in sides) <= above:
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) for vs in sides for v in vs):
        return None
    lo, hi = min(min(v) for v in sides), max(max(v) for v in sides)
    return lo, math.isqrt(hi - lo) + 1


def embedded_nodes(program: Node) -> frozenset[int]:
    """Ids of the s-ops computed from positions alone or from tokens alone, with no head
    below them: the position or token embedding writes any function of them exactly."""
    below = primitives_below(program, ATTENTION)
    return frozenset(i for i, kinds in below.items() if kinds <= {Indices} or kinds <= {Tokens})
