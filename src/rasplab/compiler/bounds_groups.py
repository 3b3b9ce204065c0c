"""How a head's scores split into groups of s-ops read apart, for :mod:`.bounds_factored`.

Two s-ops fall in one group when a head dimension reads one of them on the
query side and the other on the key side, or a test of the selector reads
both. A dimension that reads a constant on one side (``one`` or BOS's flag)
and s-ops of several groups on the other adds up over those groups: causal
dyck2's opener writes every query's ``-q^2`` terms (its level's two digits,
its depth index) beside BOS's key in one dimension. Each such group takes
the rows of its own s-ops on the varying side, one of them (the owner) the
other rows and the bias too, and the constant side whole: the groups' parts
of the score add up to the score. Each part's rounding is bounded by the
``gamma`` of the whole column's products, which the float sum rounds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .bounds_scores import Head, project
from .bounds_space import Stream
from .selectors import All, Literal, Truth, variables

__all__ = ["Group", "groups", "side_vectors"]


@dataclass(frozen=True)
class Group:
    """S-ops whose values a head's scores read together, apart from every other group's."""

    queries: tuple[int, ...]  # node ids read on the query side
    keys: tuple[int, ...]  # on the key side
    dims: np.ndarray  # the head dimensions (of d_head) they alone are scored in
    f: Any  # the part of the selector that tests them (Truth(True): none)
    shared: tuple[tuple[int, str, bool], ...] = ()  # (dimension, side, owner): one side
    # reads nothing (a constant), the other this group's nodes and others': the group
    # takes that side's rows of its own nodes (the owner, the rest of the rows and the
    # bias too), and the constant side whole


def groups(stream: Stream, head: Head, f: Any) -> list[Group] | None:
    """The head's groups where its scores split into two or more (None where not): nodes
    are joined when a head dimension reads both sides of them, or a test of the selector
    does. A dimension that reads a constant on one side adds up over the groups that the
    other side reads (a query's ``-q^2`` beside BOS's key, or a key's ``-k^2``)."""
    a, j = head.attn, head.j
    tests = list(f.children) if isinstance(f, All) else [] if isinstance(f, Truth) else [f]
    if not all(isinstance(t, Literal) for t in tests) or (isinstance(f, Truth) and not f.value):
        return None
    tested = [[(side, n.id) for (side, _), n in variables(t).items()] for t in tests]
    if not all(tested):  # a test of constants alone: left to the whole table
        return None
    parent: dict[Any, Any] = {}

    def root(x: Any) -> Any:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    def join(items: Sequence[Any]) -> None:
        for other in items[1:]:
            parent[root(other)] = root(items[0])

    per_dim = _reads(stream, a.W_Q[j], "q", a.W_K[j], "k")  # [dim] -> items it reads
    for read in per_dim:
        if {side for side, _ in read} == {"q", "k"}:
            join(sorted(read))
    for items in tested:
        join(items)
    nodes = sorted({x for read in per_dim for x in read} | {x for t in tested for x in t})
    roots = list(dict.fromkeys(root(x) for x in nodes))
    if len(roots) < 2:
        return None
    return _grouped(roots, root, (nodes, tests), per_dim)


def _reads(stream: Stream, *sides: Any) -> list[set[tuple[str, int]]]:
    """Per head dimension, the (side, node id) whose directions feed it; ``sides``: the
    query's weights and ``"q"``, the key's and ``"k"``."""
    per_dim: list[set[tuple[str, int]]] = [set() for _ in range(sides[0].shape[-1])]
    for w, side in zip(sides[::2], sides[1::2], strict=True):
        for f in stream.available:
            rows = [stream.index[d] for d in f.directions]
            if rows:
                for e in np.flatnonzero(np.abs(w[rows]).sum(axis=0)).tolist():
                    per_dim[e].add((side, f.key[0]))
    return per_dim


def _grouped(roots: list, root: Any, found: tuple[list, list], per_dim: list) -> list[Group]:
    """The groups, in order of their first node; dimensions no node reads (constants,
    the same for every combination) go to the first."""
    nodes, tests = found
    dims_of: dict[Any, list[int]] = {r: [] for r in roots}
    shared_of: dict[Any, list[tuple[int, str, bool]]] = {r: [] for r in roots}
    for e, items in enumerate(per_dim):
        owners = [r for r in roots if any(root(x) == r for x in items)]
        if len(owners) <= 1:
            dims_of[owners[0] if owners else roots[0]].append(e)
            continue
        side = next(iter(items))[0]  # the one side that reads nodes
        for i, r in enumerate(owners):
            shared_of[r].append((e, side, i == 0))
    out = []
    for r in roots:
        mine = [t for t in tests if root(_first_item(t)) == r]
        f = Truth(True) if not mine else mine[0] if len(mine) == 1 else All(tuple(mine))
        qs = tuple(n for s, n in nodes if s == "q" and root((s, n)) == r)
        ks = tuple(n for s, n in nodes if s == "k" and root((s, n)) == r)
        dims = np.array(sorted(dims_of[r]), dtype=np.int64)
        out.append(Group(qs, ks, dims, f, tuple(shared_of[r])))
    return out


def _first_item(t: Literal) -> Any:
    side_node = next(iter(variables(t).items()))[0]
    return side_node[0], variables(t)[side_node].id


def side_vectors(stream: Stream, weights: tuple, part: tuple, x: np.ndarray) -> tuple:
    """One side's vectors and error bounds in the group's columns ``cols`` (its own
    dimensions, then those it shares), for the residuals ``x`` and for BOS. In a shared
    dimension whose varying side this is, the group takes the rows of its own nodes (the
    owner, every other row and the bias too): the groups' parts add up to the whole, and
    each part's rounding is bounded by ``gamma`` of the whole column's products."""
    (w_all, b_all), (cols, g, side) = weights, part
    w, b = w_all[:, cols].copy(), b_all[cols].copy()
    full = np.zeros(len(cols))  # gamma of a whole shared column, where this side is split
    mine = _rows(stream, g.queries if side == "q" else g.keys)
    for i, (e, split, owner) in enumerate(g.shared, start=len(g.dims)):
        if split != side:
            continue  # the constant side, whole in every group
        keep = mine | (_other_rows(stream, mine) if owner else False)
        w[~keep, i] = 0.0
        b[i] = b[i] if owner else 0.0
        full[i] = stream.rounding.gamma(int(np.count_nonzero(w_all[:, e])) + 1)
    out = []
    for rows, error in ((x, stream.error(x)), (stream.bos[None], stream.bos_delta)):
        v, err = project(stream, rows, w, b, error)
        size = np.abs(rows) + np.broadcast_to(error, rows.shape)
        out += [v, err + full * (size @ np.abs(w) + np.abs(b))]
    return tuple(out)


def _rows(stream: Stream, nodes: tuple[int, ...]) -> np.ndarray:
    """[d_model]: the directions of these nodes' features."""
    found = np.zeros(len(stream.index), dtype=bool)
    for f in stream.available:
        if f.key[0] in nodes:
            found[[stream.index[d] for d in f.directions]] = True
    return found


def _other_rows(stream: Stream, mine: np.ndarray) -> np.ndarray:
    """[d_model]: the directions of no node's features (``one``, BOS's flag)."""
    return ~_rows(stream, tuple({f.key[0] for f in stream.available})) & ~mine
