"""A compound move of the discrete search (:mod:`rasplab.learn.search`): RASP's stable
sort of the tokens by a key, built from parts of a program in one move::

    key   = T(x, y)                      # a table of an earlier layer, a named formula
    rank  = selector_width(select(key, key, >)                           # (or <)
                           | (select(key, key, ==) & select(indices, indices, <)))
    moved = aggregate(select(rank, indices, ==), tokens)
    flag  = aggregate(select(rank, indices, ==), key == least, 0)   # (or greatest)

and the output reads ``moved`` and ``flag``. ``rank`` counts the keys ahead and the
equal keys before, in one head, as RASP's own sort does (the two selections never share
a key, so the width is their sum): it numbers the places by key, ties in order of place,
so every place receives exactly one token and nothing conflicts. ``flag`` says whether
the key that arrived had the key's least (or greatest) value, which a key table gives
the places to be left out (``a * (b == 0)``: ``a`` where ``b`` is 0, else 0).

The key is a variable the rank head may read, or a free table of an earlier layer set
to a formula of two variables (:func:`key_formulas`), each an existing variable or a
head of the table's layer set to a count idiom (:func:`idioms`: the keys with the
same value of a variable, and the earlier ones). Keys that order the sample's places
alike are tried once. No single-head move reaches this: none of the parts raises the
accuracy alone.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .bigrams import _layers, _readable, unused
from .discrete import Factor, Head, Mlp, Program, _run_head
from .formulas import binary_formulas
from .moves import TRUE
from .scoring import Node, Sample, bad_rows, best_output, run

__all__ = ["Parts", "key_formulas", "idioms", "places", "sort_move"]

Move = dict[int, Node]


@dataclass(frozen=True)
class Parts:
    """Where a sort goes: the places of its nodes (``key`` a table's, or -1)."""

    key: int  # a table of an earlier layer than ``rank``, or -1 (existing keys only)
    rank: int  # a width head: the keys ahead and the equal keys before
    moved: int  # a cat head of a later layer
    flag: int  # a mean head of the cat head's layer, or -1


def key_formulas() -> list[tuple[str, Callable[[Any, Any], Any]]]:
    """Formulas a key table may take: :func:`~rasplab.learn.formulas.binary_formulas`
    (comparisons, sums, differences, and masks: ``a`` where ``b`` is 0, else 0)."""
    return binary_formulas()


def idioms(head: Head, names: list[str], variables) -> list[Head]:
    """``head`` set to count the keys with the query's value of a variable, and (with two
    factors) only the earlier ones (0 at a first occurrence)."""
    found = []
    for name in (n for n in names if variables[n].kind != "frac"):
        same = Factor(name, name, "==")
        found.append(replace(head, factors=(same,) + (TRUE,) * (len(head.factors) - 1)))
        if len(head.factors) == 2:
            found.append(replace(head, factors=(same, Factor("indices", "indices", "<"))))
    return found


def _prefer_free(candidates: list[int], free: set[int]) -> list[int]:
    return sorted(candidates, key=lambda i: i not in free)


def places(program: Program, nodes: list[Node], output: tuple[str, ...]) -> list[Parts]:
    """Every layer with a width head to rank, a cat head and a mean head of a later layer;
    free parts (that the output does not depend on) are preferred."""
    layer, free = _layers(program), unused(nodes, output)

    def of(kind: str, depth: int) -> list[int]:
        """Places of the heads of ``kind`` (``table``: the tables) in layer ``depth``."""
        found = [
            i
            for i, n in enumerate(nodes)
            if layer[n.name] == depth
            and (isinstance(n, Mlp) if kind == "table" else isinstance(n, Head) and n.kind == kind)
        ]
        return _prefer_free(found, free)

    found = []
    for depth in sorted(set(layer.values())):
        keys = [t for d in reversed(range(depth)) for t in of("table", d)]  # the latest first
        later = [(c, d) for d in range(depth + 1, len(program.layers)) for c in of("cat", d)]
        if of("width", depth) and later:
            flag = (of("mean", later[0][1]) or [-1])[0]
            found.append(Parts((keys or [-1])[0], of("width", depth)[0], later[0][0], flag))
    return found


Source = tuple[str, np.ndarray, Move]  # a variable, its codes on the sample, the move making it


def _numbers(data: Sample, name: str) -> np.ndarray:
    """What a formula sees of each code of ``name``: a number's value, a token's code."""
    var = data.variables[name]
    if var.kind == "int":
        return np.asarray([int(v) for v in var.values], dtype=np.int64)
    return np.arange(var.size, dtype=np.int64)


def _sources(
    data: Sample, program: Program, nodes: list[Node], codes: dict, table: int
) -> list[Source]:
    """What a key table may read: existing variables, and heads of its layer set to an
    idiom (:func:`idioms`)."""
    readable, layer = _readable(program), _layers(program)
    name = nodes[table].name
    found: list[Source] = [
        (n, codes[n], {}) for n in sorted(readable[name]) if data.variables[n].kind != "frac"
    ]
    for place, head in enumerate(nodes):
        if not isinstance(head, Head) or layer[head.name] != layer[name]:
            continue
        names = sorted(readable[head.name])
        for idiom in idioms(head, names, data.variables):
            made, _ = _run_head(idiom, codes, data.mask, data.variables)
            found.append((head.name, made, {place: idiom}))
    return found


def _ranked(values: np.ndarray, reached: np.ndarray, n_out: int) -> np.ndarray | None:
    """``values`` as codes in value order among ``reached`` (unreached ones: the nearest
    code above); ``None`` where the key has fewer than 2 or more than ``n_out`` values."""
    distinct = np.unique(reached)
    if not 2 <= len(distinct) <= n_out:
        return None
    return np.searchsorted(distinct, values).clip(0, len(distinct) - 1)


def _table_keys(
    data: Sample, program: Program, nodes: list[Node], codes: dict, place: int
) -> Iterator[tuple[Move, np.ndarray]]:
    """``(move, key codes)``: the table at ``place`` set to every key formula of two sources."""
    table = nodes[place]
    assert isinstance(table, Mlp)
    for (x, cx, mx), (y, cy, my) in itertools.permutations(
        _sources(data, program, nodes, codes, place), 2
    ):
        if x == y or set(mx) & set(my) or (x in (nodes[i].name for i in my)):
            continue
        if y in (nodes[i].name for i in mx):
            continue
        vx, vy = _numbers(data, x), _numbers(data, y)
        for _, formula in key_formulas():
            grid = np.asarray(formula(vx[:, None], vy[None, :])).astype(np.int64)
            reached = grid[cx, cy][data.mask]
            ranked = _ranked(grid, reached, table.n_out)
            if ranked is None:
                continue
            if grid.min() >= 0 and grid.max() < table.n_out:  # the formula's own values fit
                ranked = grid
            entries = tuple(int(c) for c in ranked.flatten())
            made = replace(table, inputs=(x, y), table=entries, formula=None, values=None)
            yield {**mx, **my, place: made}, ranked[cx, cy]


def _keys(
    data: Sample, program: Program, nodes: list[Node], codes: dict, parts: Parts
) -> Iterator[tuple[Move, str, np.ndarray]]:
    """``(move, key name, key codes)``, one per distinct order of the sample's places."""
    options: list[tuple[Move, str, np.ndarray]] = []
    readable = _readable(program)[nodes[parts.rank].name]
    for name in sorted(readable):
        if data.variables[name].kind != "frac":
            options.append(({}, name, codes[name]))
    if parts.key >= 0:
        name = nodes[parts.key].name
        options += [(m, name, c) for m, c in _table_keys(data, program, nodes, codes, parts.key)]
    seen: set[bytes] = set()
    for move, name, key in options:
        _, order = np.unique(np.where(data.mask, key, -1), return_inverse=True)
        signature = order.astype(np.int16).tobytes()
        if signature not in seen:
            seen.add(signature)
            yield move, name, key


def _sorted_by(nodes: list[Node], parts: Parts, key: str, side: str) -> Move:
    """The rank head and the move of a sort by ``key`` (``side``: ``>``, the greatest key
    first, or ``<``), and the flag of its least key."""
    rank, moved = nodes[parts.rank], nodes[parts.moved]
    assert isinstance(rank, Head) and isinstance(moved, Head)
    ahead = (Factor(key, key, side),) + (TRUE,) * (len(rank.factors) - 1)
    ties = (Factor(key, key, "=="), Factor("indices", "indices", "<"))
    select = (Factor(rank.name, "indices", "=="),) + (TRUE,) * (len(moved.factors) - 1)
    move: Move = {
        parts.rank: replace(rank, factors=ahead, either=(ties,)),
        parts.moved: replace(moved, factors=select, either=(), value="tokens"),
    }
    if parts.flag >= 0:
        flag = nodes[parts.flag]
        assert isinstance(flag, Head)
        move[parts.flag] = replace(flag, factors=select, either=(), value=key, ones=(0,))
    return move


def sort_move(data: Sample, program: Program, nodes: list[Node], base, output, deadline: float):
    """The best sort (see the module docstring) by training accuracy on ``data``: the nodes
    it changes and the output's new inputs, with that accuracy; or ``None``. ``base``: the
    codes and conflicts of ``nodes``."""
    best: tuple[Move, tuple[str, ...]] | None = None
    best_acc = -1.0
    for parts in places(program, nodes, output):
        for key_move, key, _ in _keys(data, program, nodes, base[0], parts):
            for side in (">", "<"):
                if time.monotonic() > deadline:
                    return best, best_acc
                move = {**key_move, **_sorted_by(nodes, parts, key, side)}
                acc, inputs = _score(data, nodes, base, move, parts)
                if acc > best_acc:
                    best, best_acc = (move, inputs), acc
    return best, best_acc


def _score(
    data: Sample, nodes: list[Node], base, move: Move, parts: Parts
) -> tuple[float, tuple[str, ...]]:
    """Training accuracy of ``move`` with the output reading the move and the flag."""
    moved = [move.get(i, node) for i, node in enumerate(nodes)]
    codes, conflicts = run(data, moved, base, set(move))
    bad = bad_rows(moved, conflicts, len(data.tokens))
    pairs: list[tuple[str, ...]] = [(moved[parts.moved].name,)]
    if parts.flag >= 0:
        pairs.append((moved[parts.moved].name, moved[parts.flag].name))
    return best_output(data, codes, bad, pairs)
