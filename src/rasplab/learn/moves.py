"""Candidate moves of the discrete search (:mod:`rasplab.learn.search`): every other
choice a head could make, each a new :class:`~rasplab.learn.discrete.Head`."""

from __future__ import annotations

import itertools
from dataclasses import replace

from .discrete import PREDICATES, Factor, Head, Mlp, Program, Variable, reads

__all__ = [
    *("TRUE", "SIDES", "available", "comparisons", "factor_moves", "put"),
    *("ones_options", "value_moves", "bracket", "range_moves", "chain_moves"),
    *("relocations", "compactions"),
]

TRUE = Factor("tokens", "tokens", "true")
SIDES = ("<", "<=", ">", ">=")  # the comparisons that bound a range from one side
Move = dict[int, Head | Mlp]  # node index -> its replacement


def available(program: Program) -> dict[str, list[str]]:
    """Per head, the variables it may read: the inputs and those of earlier layers."""
    made, found = ["tokens", "indices", "length"], {}
    for layer in program.layers:
        found.update({head.name: list(made) for head in layer.heads})
        made += [head.name for head in layer.heads] + [mlp.name for mlp in layer.mlps]
    return found


def comparisons(names: list[str], variables: dict[str, Variable]) -> list[Factor]:
    """Every comparison of two variables that selects compare (no ``frac``), and ``true``."""
    chosen = [n for n in names if variables[n].kind != "frac"]
    found = [Factor("tokens", "tokens", "true")]
    for key, query in itertools.product(chosen, chosen):
        found += [Factor(key, query, p) for p in PREDICATES if p != "true"]
    return found


def factor_moves(head: Head, options: list[Factor]) -> list[Head]:
    """The head with one of its factors replaced by another comparison."""
    found = []
    for index, old in enumerate(head.factors):
        for factor in options:
            if factor != old:
                found.append(replace(head, factors=put(head.factors, index, factor)))
    return found


def ones_options(size: int) -> list[tuple[int, ...]]:
    """Sets of codes that count as 1: every proper subset of a few codes, else single
    codes and the codes below or above a cut."""
    codes = range(size)
    if size <= 4:
        subsets = (c for k in range(1, size) for c in itertools.combinations(codes, k))
        return list(subsets)
    found: list[tuple[int, ...]] = [(c,) for c in codes]
    found += [tuple(range(c + 1)) for c in range(1, size - 1)]
    return found + [tuple(range(c, size)) for c in range(1, size - 1)]


def value_moves(head: Head, names: list[str], variables: dict[str, Variable]) -> list[Head]:
    """A cat head moving another token variable; a mean head averaging another indicator."""
    if head.kind == "cat":
        tokens = [n for n in names if variables[n].kind == "token" and n != head.value]
        return [replace(head, value=name) for name in tokens]
    if head.kind != "mean":
        return []
    found = []
    for name in names:
        for ones in ones_options(variables[name].size):
            if (name, ones) != (head.value, head.ones):
                found.append(replace(head, value=name, ones=ones))
    return found


def bracket(head: Head, bound: str) -> list[Head]:
    """``head`` with one factor ``(K, Q, p)`` made ``(K, Q, p1) and (bound, Q, p2)``."""
    found = []
    for factor in head.factors:
        if factor.predicate == "true":
            continue
        for low, high in itertools.product(SIDES, SIDES):
            pair = (replace(factor, predicate=low), Factor(bound, factor.query, high))
            found.append(replace(head, factors=pair))
    return found


def _counts_before(nodes: list[Head | Mlp], index: int, available: dict) -> list[tuple[int, Head]]:
    """The ``width`` heads that ``nodes[index]`` may read, with their places."""
    head = nodes[index]
    found = []
    for place, node in enumerate(nodes):
        if isinstance(node, Head) and node.kind == "width" and node.name in available[head.name]:
            found.append((place, node))
    return found


def range_moves(
    nodes: list[Head | Mlp], index: int, available: dict, variables
) -> list[dict[int, Head | Mlp]]:
    """A two-factor head comparing ``K`` with ``Q`` that instead keeps ``Q`` between ``K``
    and an earlier count ``A``, itself set to any one comparison of what it may read."""
    head = nodes[index]
    assert isinstance(head, Head)
    if len(head.factors) != 2:
        return []
    found: list[Move] = []
    for place, count in _counts_before(nodes, index, available):
        tail = (TRUE,) * (len(count.factors) - 1)
        for option in comparisons(available[count.name], variables)[1:]:
            moved = replace(count, factors=(option, *tail))
            found += [{place: moved, index: b} for b in bracket(head, count.name)]
    return found


def chain_moves(
    nodes: list[Head | Mlp], index: int, available: dict, variables
) -> list[dict[int, Head | Mlp]]:
    """A head that compares an earlier count ``A`` with any variable (its other factors
    ``true``), ``A`` itself set to any one comparison of what it may read."""
    head = nodes[index]
    assert isinstance(head, Head)
    names = [n for n in available[head.name] if variables[n].kind != "frac"]
    found: list[Move] = []
    for place, count in _counts_before(nodes, index, available):
        tail = (TRUE,) * (len(count.factors) - 1)
        rest = (TRUE,) * (len(head.factors) - 1)
        heads = [
            replace(head, factors=(Factor(count.name, query, p), *rest))
            for query in names
            for p in SIDES + ("==", "!=")
        ]
        for option in comparisons(available[count.name], variables)[1:]:
            moved = replace(count, factors=(option, *tail))
            found += [{place: moved, index: h} for h in heads]
    return found


def put(factors: tuple[Factor, ...], slot: int, factor: Factor) -> tuple[Factor, ...]:
    return factors[:slot] + (factor,) + factors[slot + 1 :]


def _renamed(node: Head | Mlp, names: dict[str, str]) -> Head | Mlp:
    """``node`` reading ``names[x]`` wherever it read a variable ``x`` named there."""
    if isinstance(node, Mlp):
        return replace(node, inputs=tuple(names.get(i, i) for i in node.inputs))

    def clause(factors: tuple[Factor, ...]) -> tuple[Factor, ...]:
        return tuple(
            Factor(names.get(f.key, f.key), names.get(f.query, f.query), f.predicate)
            for f in factors
        )

    value = names.get(node.value, node.value) if node.value is not None else None
    either = tuple(clause(c) for c in node.either)
    return replace(node, factors=clause(node.factors), either=either, value=value)


def relocations(
    nodes: list[Head | Mlp], output: tuple[str, ...], reading: dict[str, list[str]]
) -> list[tuple[dict[int, Head | Mlp], tuple[str, ...], int]]:
    """Swaps of a head the output depends on with a head of its kind in an earlier layer
    that can read what it reads and that no head or table reads (the output may); their
    readers follow. The program computes the same; the later head (its index is the
    third item) then holds the earlier one's choices, free for a head that reads the
    moved one. The second item is the output's new inputs."""
    used, todo = set(), list(output)
    made = {node.name: node for node in nodes}
    while todo:
        name = todo.pop()
        if name in made and name not in used:
            used.add(name)
            todo += sorted(reads(made[name]))
    read = {name for node in nodes for name in reads(node)}
    found = []
    for place, later in enumerate(nodes):
        if not isinstance(later, Head) or later.name not in used:
            continue
        for index, early in enumerate(nodes):
            if not _free(early, later, read, reading):
                continue
            swap = {later.name: early.name, early.name: later.name}
            move: dict[int, Head | Mlp] = {
                index: replace(later, name=early.name),
                place: replace(early, name=later.name),
            }
            for i, node in enumerate(nodes):
                if i not in move and set(swap) & reads(node):
                    move[i] = _renamed(node, swap)
            found.append((move, tuple(swap.get(i, i) for i in output), place))
    return found


def _free(early: Head | Mlp, later: Head, read: set[str], reading: dict[str, list[str]]) -> bool:
    """Whether ``early`` is a head of ``later``'s kind that nothing but the output reads
    and that can read what ``later`` reads."""
    if not isinstance(early, Head) or early.name in read or early.kind != later.kind:
        return False
    names = set(reading.get(early.name, []))
    # the earlier head's layer reads strictly less: it comes before the later head's layer
    return names < set(reading.get(later.name, [])) and reads(later) <= names


def _widths(nodes: list[Head | Mlp], names: set[str], read: set[str]) -> list[int]:
    """Places of the two-factor width heads among ``names`` that no node in ``read`` reads."""
    return [
        place
        for place, node in enumerate(nodes)
        if isinstance(node, Head) and node.kind == "width" and len(node.factors) == 2
        if node.name in names and node.name not in read
    ]


def _constants(z: Head, reading, variables) -> list[Head]:
    """``z`` set to count the keys a variable compares with itself: 1 (``indices ==``),
    the length, a place (``indices <=``) and the like."""
    selves = [n for n in reading[z.name] if variables[n].kind != "frac"]
    return [replace(z, factors=(Factor(v, v, p), TRUE)) for v in selves for p in ("==", "<=", "<")]


def _conditions(nodes, spare: list[int], names: list[str], reading, variables):
    """What a key must meet to be kept by a compaction, with the moves that make it: any
    comparison of ``names``; a variable compared with a constant (a spare earlier width
    head, :func:`_constants`); a key that is the first (or last) with its value of some
    variable (a second spare head counts the earlier or later such keys)."""
    found: list[tuple[Factor, dict]] = [(f, {}) for f in comparisons(names, variables)[1:]]
    keys = [n for n in names if variables[n].kind != "frac"]
    for z in spare:
        head = nodes[z]
        consts = [{z: c} for c in _constants(head, reading, variables)]
        for key, q, const in itertools.product(keys, SIDES + ("==", "!="), consts):
            if key != head.name:
                found.append((Factor(key, head.name, q), const))
        for f in (f for f in spare if f != z):
            old = nodes[f]
            seen = [n for n in reading[old.name] if variables[n].kind != "frac"]
            for var, side, const in itertools.product(seen, ("<", ">"), consts):
                first = (Factor(var, var, "=="), Factor("indices", "indices", side))
                made = {f: replace(old, factors=first), **const}
                found += [(Factor(old.name, head.name, q), made) for q in ("<", "==")]
    return found


def compactions(
    nodes: list[Head | Mlp], index: int, reading: dict[str, list[str]], variables
) -> list[dict[int, Head | Mlp]]:
    """RASP's stable filter for a two-factor ``cat`` head: two width heads ``A``, ``B`` of
    one earlier layer count the keys that meet a condition before and up to each place,
    and the head moves to place ``r`` the key with ``A <= r < B`` (one that meets it, with
    ``r`` such keys before it); a width head of its layer counts the same selection
    (whether anything moved). Conditions: :func:`_conditions`. Only heads that nothing
    outside the move reads are changed."""
    head = nodes[index]
    if not isinstance(head, Head) or head.kind != "cat" or len(head.factors) != 2:
        return []
    same = {n for n, r in reading.items() if r == reading[head.name]}
    mates = _widths(nodes, same, {n for node in nodes for n in reads(node)})[:1]
    found: list[dict[int, Head | Mlp]] = []
    for pa, pb in itertools.combinations(_widths(nodes, set(reading[head.name]), set()), 2):
        a, b = nodes[pa], nodes[pb]
        assert isinstance(a, Head) and isinstance(b, Head)
        outside = [n for i, n in enumerate(nodes) if i not in (pa, pb, index, *mates)]
        if reading[a.name] != reading[b.name] or {a.name, b.name} & _read_by(outside):
            continue
        sel = (Factor(a.name, "indices", "<="), Factor(b.name, "indices", ">"))
        spare = _widths(nodes, set(reading[a.name]), _read_by(outside))
        for cond, extra in _conditions(nodes, spare, reading[a.name], reading, variables):
            move: dict[int, Head | Mlp] = {**extra, index: replace(head, factors=sel)}
            move[pa] = replace(a, factors=(cond, Factor("indices", "indices", "<")))
            move[pb] = replace(b, factors=(cond, Factor("indices", "indices", "<=")))
            move.update({m: _with(nodes[m], sel) for m in mates})
            found.append(move)
    return found


def _with(node: Head | Mlp, factors: tuple[Factor, ...]) -> Head:
    assert isinstance(node, Head)
    return replace(node, factors=factors)


def _read_by(nodes: list[Head | Mlp]) -> set[str]:
    return {name for node in nodes for name in reads(node)}
