"""Counts that are ranks: a ``selector_width`` no two positions share, proved from its selector.

sort selects ``target_pos == indices`` and moves one token, which is right
only if no two positions hold the same ``target_pos``. No per-position value
set shows that (every position may hold every rank); the selector does:
``target_pos`` counts the keys that come before the query in the order
"smaller token, or the same token earlier", a strict total order of the
positions, so the counts are the positions' ranks, ``0 .. length - 1``,
each once.

:func:`distinct_ranks` proves it for any ``selector_width(select(...))``
whose key and query sides read the same s-ops, one of them ``indices`` (so
two positions never have the same tuple of values). Over every tuple the
value sets allow, the selector as a relation ``R(key, query)`` must be

* irreflexive (or reflexive) on every tuple: each count includes the query
  itself always or never;
* a tournament on distinct tuples: for ``a != b`` exactly one of ``R(a, b)``,
  ``R(b, a)`` holds;
* transitive, which for a tournament holds exactly when the numbers of tuples
  below each tuple all differ.

Then at any input the positions' tuples are distinct tuples of a strict total
order and each count is a position's rank (plus one if reflexive): no two
positions share it. Where the tuples are too many for that table, a
lexicographic form shows the same (:mod:`.total_orders`).

>>> from rasplab import tokens, indices, select, selector_width
>>> from rasplab.compiler.value_sets import infer
>>> tie = select(tokens, tokens, "==") & select(indices, indices, "<")
>>> before = select(tokens, tokens, "<") | tie
>>> rank = selector_width(before)
>>> distinct_ranks(rank, infer(rank, "abc", 6))
True
>>> smaller = selector_width(select(tokens, tokens, "<"))  # equal tokens share a count
>>> distinct_ranks(smaller, infer(smaller, "abc", 6))
False

:func:`class_rank` proves a weaker property: no two positions *with the same
value of* ``X`` share the count. A count of the positions up to (or before)
each position that hold its value of ``X``,
``selector_width(select(X, X, "==") & select(indices, indices, "<="))``,
grows by at least one from each such position to the next. dyck2's
``depth_index`` numbers the positions of one depth level this way (with the
paper's BOS-free selector width), so the opener a closer selects, at its
level and with the index one less, is one position. The class may also be
the positions a test keeps: ``prefix_count(flag)`` numbers the flagged
positions, so ``next_where`` selects one.

>>> level = tokens
>>> index = selector_width(select(level, level, "==") & select(indices, indices, "<="))
>>> class_rank(index, infer(index, "abc", 6)).node.label
'tokens'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..lang.enums import Comparison
from ..lang.nodes import (
    Indices,
    Map,
    Node,
    Selector,
    SelectorWidth,
    SOp,
    ZipMap,
)
from .selectors import All, Literal, formula, variables
from .tellers import telling_apart
from .total_orders import STRICT, TUPLES, by_form, by_table
from .value_sets import ValueSets
from .width_selectors import stand_ins, width_selector

__all__ = [
    "distinct_ranks",
    "permutation_ranks",
    "class_rank",
    "Class",
    "ranks_among",
    "class_ranks_among",
    "looks_back_by_rank",
    "one_key",
    "width_selector",
    "TUPLES",
]


def distinct_ranks(node: Node, values: ValueSets, origin: Mapping[int, Node] | None = None) -> bool:
    """Whether ``node`` is a selector width no two positions share on any input (above).

    ``values`` may be of a rewritten program whose nodes stand for the user's
    (``origin``: rewritten node id -> the user's node): those give their values."""
    return _order_of(node, values, origin) is not None


def permutation_ranks(
    node: Node, values: ValueSets, origin: Mapping[int, Node] | None = None
) -> bool:
    """Whether ``node`` counts the positions before each position in a strict total order
    (:func:`distinct_ranks`, never the position itself): at every input its values are
    ``0 .. length - 1``, each at one position, so ``select(node, indices, "==")`` finds
    exactly one key for every query (sort's ``target_pos``).

    >>> from rasplab import tokens, indices, select, selector_width
    >>> from rasplab.compiler.value_sets import infer
    >>> tie = select(tokens, tokens, "==") & select(indices, indices, "<")
    >>> rank = selector_width(select(tokens, tokens, "<") | tie)
    >>> permutation_ranks(rank, infer(rank, "abc", 6))
    True
    >>> upto = selector_width(select(tokens, tokens, "<") | (tie | select(indices, indices, "==")))
    >>> permutation_ranks(upto, infer(upto, "abc", 6))  # 1 .. length: each counts itself
    False
    """
    return _order_of(node, values, origin) == STRICT


def _order_of(node: Node, values: ValueSets, origin: Mapping[int, Node] | None) -> str | None:
    """``STRICT`` or ``REFLEXIVE`` where the relation over value tuples that ``node`` counts
    is a strict total order (or its reflexive closure) over tuples that include
    ``indices`` (:mod:`.total_orders`: by form, else by table); else None."""
    sel = width_selector(node, values, origin)
    if sel is None or not isinstance(node, SelectorWidth | ZipMap):
        return None
    f = formula(sel)
    found = variables(f)
    keys = {nid for side, nid in found if side == "k"}
    if keys != {nid for side, nid in found if side == "q"}:
        return None
    order = sorted(keys)
    if not any(isinstance(found[("k", nid)], Indices) for nid in order):
        return None
    stand_in = stand_ins(values, origin or {})
    try:
        lists = {var: values.union(stand_in.get(sop.id, sop)) for var, sop in found.items()}
    except (LookupError, KeyError):
        return None
    return by_form(f, lists) or by_table(f, order, lists)


@dataclass(frozen=True, eq=False)
class Class:
    """The positions a class rank tells apart: those with one value of ``node``, or (with
    ``keep``) those where ``keep`` holds of ``node``'s value."""

    node: SOp
    keep: Literal | None = None  # a test of the key's value alone (a select on a constant)

    def ids(self, codes: np.ndarray, values: Sequence[Any]) -> np.ndarray:
        """A class id per code of ``node``: equal ids, one class (a code outside the kept
        class gets an id of its own, negative, so that it is never taken for another)."""
        if self.keep is None:
            return codes
        kept = np.array([self.keep.holds(v, None) for v in values], dtype=bool)
        return np.where(kept[codes], 0, -1 - np.arange(len(codes)))


def class_rank(
    node: Node, values: ValueSets, origin: Mapping[int, Node] | None = None
) -> Class | None:
    """The positions among which ``node``, a count of the positions up to (or before) each
    position in its class, is one per position (module docstring); None where that is
    not shown. The class is one value of an s-op ``X`` (``select(X, X, "==")``) or the
    positions a test of one s-op keeps (``select(flag, True, "==")``)."""
    sel = width_selector(node, values, origin)
    f = formula(sel) if sel is not None else None
    if not isinstance(f, All) or len(f.children) != 2:
        return None
    order = [c for c in f.children if _plain(c) and _before(c)]
    if len(order) != 1:
        return None
    (same,) = [c for c in f.children if c is not order[0]]
    if _plain(same) and same.key is same.query and same.predicate is Comparison.EQ:
        return Class(same.key)
    if _keeps(same):
        return Class(same.key, same)
    return None


def _before(c: Literal) -> bool:
    """``select(indices, indices, "<=")`` or ``"<"``: the keys up to (or before) the query."""
    return (
        isinstance(c.key, Indices)
        and isinstance(c.query, Indices)
        and c.predicate in (Comparison.LEQ, Comparison.LT)
    )


def _plain(c: object) -> bool:
    """A literal that is its select's own predicate on the two s-ops as they are."""
    return (
        isinstance(c, Literal)
        and not c.negated
        and c.merged is None
        and c.constant is None
        and c.key is not None
        and c.query is not None
    )


def _keeps(c: object) -> bool:
    """A test of the key's value alone: a select whose query side is a constant."""
    return (
        isinstance(c, Literal)
        and c.merged is None
        and c.key is not None
        and c.query is None
        and c.constant is not None
        and c.constant[0] == "q"
    )


def ranks_among(
    nodes: Mapping[int, Node], values: ValueSets, origin: Mapping[int, Node]
) -> frozenset[int]:
    """The ids of ``nodes`` (a plan's, standing for ``origin``'s user nodes) that are
    counts no two positions share (:func:`distinct_ranks`)."""
    return frozenset(
        nid for nid, node in nodes.items() if distinct_ranks(origin.get(nid, node), values, origin)
    )


def class_ranks_among(
    nodes: Mapping[int, Node], values: ValueSets, origin: Mapping[int, Node]
) -> dict[int, tuple[tuple[tuple[int, ...], ...], Class]]:
    """Counts among ``nodes`` that are one per position within a class
    (:func:`class_rank`): the count's id -> the ways to read its class among ``nodes``
    (each the ids of its ``X``, or of maps of ``X`` that together tell its values
    apart: the digits of :mod:`.digits`), and the class."""
    ids = {id(origin.get(nid, node)): nid for nid, node in nodes.items()}
    found: dict[int, tuple[tuple[tuple[int, ...], ...], Class]] = {}
    for nid, node in nodes.items():
        c = class_rank(origin.get(nid, node), values, origin)
        if c is None:
            continue
        ways: list[tuple[int, ...]] = [(ids[id(c.node)],)] if id(c.node) in ids else []
        if c.keep is None:
            ways.append(telling_apart(c.node, nodes, values, origin))
        ways = [w for w in ways if w]
        if ways:
            found[nid] = (tuple(ways), c)
    return found


def looks_back_by_rank(
    f: Any, values: ValueSets | None, origin: Mapping[int, Node] | None = None
) -> bool:
    """Whether conjunction ``f`` picks only keys at or before the query because one of its
    literals compares a class rank ``R`` with a function of itself that is at most it.

    A class rank grows by at least one from each position of its class to the next
    (:func:`class_rank`), so a key of the query's class whose rank is at most the
    query's is at or before it: dyck2's ``matched_opener`` selects, at the closer's own
    level, the ``depth_index`` one less. With ``values`` None (before the value sets)
    this only says whether such a literal is there; the value sets then decide.
    """
    if not isinstance(f, All):
        return False
    literals = [c for c in f.children if isinstance(c, Literal)]
    for lit in literals:
        rank = lit.key
        if rank is None or not _of_itself(lit.query, rank):
            continue
        if values is None:
            if isinstance(rank, SelectorWidth | ZipMap):
                return True
            continue
        c = class_rank(rank, values, origin)
        # a kept class may hold positions the query is not in: its rank must be smaller
        strict = c is not None and c.keep is not None
        if c and _tests_class(c, literals) and _at_most(lit, rank, values, origin, strict):
            return True
    return False


def _of_itself(query: SOp | None, rank: SOp) -> bool:
    """The query side is the rank itself or a map of it."""
    return query is rank or (isinstance(query, Map) and query.inner is rank)


def _tests_class(c: Class, literals: Sequence[Literal]) -> bool:
    """The conjunction keeps only keys of the rank's class: the query's value of ``X``
    (``select(X, X, "==")``), or the test the class is made of."""
    if c.keep is None:
        return any(
            _plain(x) and x.key is c.node and x.query is c.node and x.predicate is Comparison.EQ
            for x in literals
        )
    keep = c.keep
    return any(
        x.key is keep.key
        and x.query is None
        and x.merged is None
        and x.constant == keep.constant
        and x.predicate is keep.predicate
        and x.negated == keep.negated
        for x in literals
    )


def _at_most(
    lit: Literal, rank: SOp, values: ValueSets, origin: Mapping[int, Node] | None, strict: bool
) -> bool:
    """Over every pair of the rank's values, the literal holds only where the key's rank is
    at most (``strict``: below) the query's."""
    try:
        ranks = values.union(stand_ins(values, origin or {}).get(rank.id, rank))
        if len(ranks) ** 2 > TUPLES * TUPLES:
            return False
        queries = [lit.query.f(v) if isinstance(lit.query, Map) else v for v in ranks]
    except (LookupError, ArithmeticError, TypeError, ValueError):
        return False
    known = set(ranks)
    for v, q in zip(ranks, queries, strict=True):
        for u in _matching(lit, ranks, known, q):
            if u > v or (strict and u == v):
                return False
    return True


def _matching(lit: Literal, ranks: list, known: set, q: Any) -> list:
    """The key values among ``ranks`` (the set ``known``) the literal accepts for query
    value ``q``."""
    if lit.predicate is Comparison.EQ and _plain(lit):
        return [q] if q in known else []
    return [u for u in ranks if lit.holds(u, q)]


def one_key(
    selector: Selector, values: ValueSets, origin: Mapping[int, Node] | None = None
) -> bool:
    """Whether ``selector``, a test of a flag on a constant, picks one key at most: the flag
    passes only at a position of a class whose class rank takes one value there. The
    flag's two tests may also stand apart: ``select(X, c, ...) & select(R, r, ...)``.

    ``first`` selects ``select(is_first, True, "==")``, where ``is_first`` is
    ``is_token & (n_before == 0)`` and ``n_before`` counts the positions before each one
    that ``is_token`` keeps: no two kept positions share it (:func:`class_rank`), so
    ``is_first`` holds at one position at most. Each position's value set holds both flag
    values: the widths the value sets give go up to the length.

    >>> from rasplab import tokens, indices, select, selector_width
    >>> from rasplab.compiler.value_sets import infer
    >>> is_a = (tokens == "a").named("is_a")
    >>> before = selector_width(select(is_a, True, "==") & select(indices, indices, "<"))
    >>> the_first = select(is_a & (before == 0), True, "==")
    >>> one_key(the_first, infer(selector_width(the_first), "ab", 6))
    True
    >>> one_key(select(is_a & (before < 2), True, "=="), infer(before, "ab", 6))  # two
    False
    """
    f = formula(selector)
    stand_in = stand_ins(values, origin or {})
    if isinstance(f, All) and len(f.children) == 2 and all(map(_keeps, f.children)):
        tests = f.children  # select(X, c, ...) & select(R, r, ...): the flag's two tests apart
        return any(_kept_at_one_rank(tests[i], tests[1 - i], values, origin) for i in (0, 1))
    if not isinstance(f, Literal) or not _keeps(f) or f.key is None:
        return False
    flag = (origin or {}).get(f.key.id, f.key)
    if not isinstance(flag, ZipMap) or len(flag.inputs) != 2:
        return False
    for at in (0, 1):
        found = _rank_and_class(flag.inputs[at], flag.inputs[1 - at], values, origin)
        if found is None:
            continue
        (rank, of_rank), (node, of_node), cls = found
        try:
            ranks = _ranks(values)
            pairs = [(x, r) for x in _union(node, values, stand_in) for r in ranks]
            args = [(of_node(x), of_rank(r))[:: 1 if at else -1] for x, r in pairs]
            passed = [p for p, a in zip(pairs, args, strict=True) if f.holds(flag.f(*a), None)]
        except Exception:  # noqa: BLE001 (a value the flag cannot take: not shown)
            continue
        if all(cls.keep.holds(x, None) for x, _ in passed) and len({r for _, r in passed}) <= 1:
            return True
    return False


def _kept_at_one_rank(on_rank: Literal, on_class: Literal, values: ValueSets, origin) -> bool:
    """Whether ``on_rank`` passes one value of a class rank, and ``on_class`` only where
    its class holds."""
    assert on_rank.key is not None and on_class.key is not None
    rank = (origin or {}).get(on_rank.key.id, on_rank.key)
    node = (origin or {}).get(on_class.key.id, on_class.key)
    cls = class_rank(rank, values, origin)
    if cls is None or cls.keep is None or node is not cls.node:
        return False
    try:
        xs = _union(node, values, stand_ins(values, origin or {}))
    except LookupError:
        return False
    ranks = [r for r in _ranks(values) if on_rank.holds(r, None)]
    return len(ranks) <= 1 and all(cls.keep.holds(x, None) for x in xs if on_class.holds(x, None))


def _union(node: Node, values: ValueSets, stand_in: Mapping[int, Node]) -> list[Any]:
    """Every value ``node`` holds anywhere (LookupError or KeyError where not known)."""
    return values.union(stand_in.get(node.id, node))


def _ranks(values: ValueSets) -> list[int]:
    """Every value a class rank may hold: a count of positions, up to the length."""
    return list(range(values.max_seq_len + 1))


def _rank_and_class(rank_side: Node, class_side: Node, values: ValueSets, origin) -> Any:
    """``((rank, f), (node, g), class)`` where ``rank_side`` is ``f(rank)``, a class rank
    kept by a test, and ``class_side`` is ``g(node)``, its class's s-op (each ``f``, ``g``
    the identity or one map); None where they are not."""
    for rank, of_rank in _as_maps(rank_side):
        cls = class_rank(rank, values, origin)
        if cls is None or cls.keep is None:
            continue
        for node, of_node in _as_maps(class_side):
            if node is cls.node:
                return (rank, of_rank), (node, of_node), cls
    return None


def _as_maps(node: Node) -> list[tuple[Node, Any]]:
    """``node`` as itself, and as a function of the s-op below it where it is a map."""
    found: list[tuple[Node, Any]] = [(node, lambda v: v)]
    if isinstance(node, Map):
        found.append((node.inner, node.f))
    return found
