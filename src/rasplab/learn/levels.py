"""A compound move of the discrete search (:mod:`rasplab.learn.search`): nesting levels
from a prefix share, and at each place the parity of a second indicator over the
places so far at or above its level; for inputs that nest, as brackets do.

Built from parts of three layers in one move (``u`` and ``k`` are sets of tokens)::

    share  = aggregate(select(indices, indices, <=), u(tokens), 0)    # the up-steps so far
    before = aggregate(select(indices, indices, <), u(tokens), 0)
    after  = (indices + 1) * (2 * share - 1)     # tables: the depth after each place,
    ahead  = indices * (2 * before - 1)          # and before it (one more; 0 below zero)
    sel    = select(after, after, >=) and select(ahead, after, >=) and select(indices, indices, <=)
    kind   = aggregate(sel, k(tokens), 0)        # a later layer
    count  = selector_width(sel)
    below  = aggregate(select(indices, indices, <=), after == 0, 0)  # went below zero so far
    odd    = parity(kind * count, count)         # a table of that layer
    seen   = aggregate(select(indices, indices, <=), odd == 1, 0)    # a later layer
    joined = T(seen, below)                      # fit with the output, which reads (joined, share)

``min(after, ahead)`` is a place's level less one, so ``sel`` selects, at a step down
to depth ``d``, the places so far at level ``d + 1`` or above. Where every earlier
step down went back up the way it came (brackets matched), the places above level
``d + 1`` come in matched pairs and those at level ``d + 1`` alternate up and down,
so the count of places with ``k`` among them is odd exactly where this step down and
the step up it closes differ in ``k`` (a closer of the wrong kind); ``count`` is even
at a step down, odd at a step up. ``odd`` marks a count and a share of ``k`` with the
parities tried; ``seen``, whether one was marked so far.

The up-steps ``u`` (with the sign of the depth) are chosen first, by how well
``below`` and ``share`` alone fit the output; then ``k`` and the parities. The
combining table ``T`` is fit with the output in closed form
(:func:`~rasplab.learn.bigrams.combined_table`). No part raises the accuracy alone;
the move changes whichever heads and tables of the right kinds it needs (free ones
first), since the output then reads only what it made.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, replace

from .bigrams import _layers, combined_table, unused
from .discrete import Factor, Head, Mlp, Program, fractions
from .moves import TRUE, ones_options
from .scoring import Node, Sample, bad_rows, best_output, run

__all__ = ["Slots", "slots", "depth_table", "parity_table", "level_move"]

Move = dict[int, Node]
UP_TO = Factor("indices", "indices", "<=")
BEFORE = Factor("indices", "indices", "<")


@dataclass(frozen=True)
class Slots:
    """Places of the parts (see the module docstring), in three layers."""

    share: int  # mean heads of the first layer
    before: int
    after_table: int  # tables of the first layer
    ahead_table: int
    kind: int  # mean heads of the second layer
    below: int
    count: int  # a width head of the second layer
    odd: int  # a table of the second layer
    seen: int  # a mean head of the third layer
    joined: int  # a table of the third layer


# per layer, the parts of each kind the move needs
_NEEDS: tuple[tuple[tuple[str, int], ...], ...] = (
    (("mean", 2), ("table", 2)),
    (("mean", 2), ("width", 1), ("table", 1)),
    (("mean", 1), ("table", 1)),
)


def slots(program: Program, nodes: list[Node], output: tuple[str, ...]) -> list[Slots]:
    """The parts for the earliest three layers that have them; free ones first, a prefix
    share first among the first layer's mean heads."""
    layer, free = _layers(program), unused(nodes, output)

    def of(kind: str, depth: int) -> list[int]:
        found = [i for i, n in enumerate(nodes) if layer[n.name] == depth and _kind(n) == kind]
        return sorted(found, key=lambda i: (not _is_prefix_share(nodes[i]), i not in free))

    for depths in itertools.combinations(range(len(program.layers)), 3):
        parts = [
            [of(kind, d)[:n] for kind, n in needs] for d, needs in zip(depths, _NEEDS, strict=True)
        ]
        sizes = [[len(p) for p in layer_parts] for layer_parts in parts]
        if sizes == [[n for _, n in needs] for needs in _NEEDS]:
            (means1, tables1), (means2, widths, tables2), (means3, tables3) = parts
            return [Slots(*means1, *tables1, *means2, *widths, *tables2, *means3, *tables3)]
    return []


def _kind(node: Node) -> str:
    return "table" if isinstance(node, Mlp) else node.kind


def _clip(depth: int, n_out: int) -> int:
    """A depth among a table's values: one more than it, 0 below zero."""
    return min(max(depth, -1) + 1, n_out - 1)


def depth_table(
    name: str, inputs: tuple[str, str], max_len: int, n_out: int, up: int, shift: int
) -> Mlp:
    """``(indices + shift) * (2 * share - 1)`` (``up``: 1, or -1 where the share counts
    the down-steps) over (share, indices), kept among the table's values."""
    shares = fractions(max_len)
    table = tuple(
        _clip(round(up * (p + shift) * (2 * float(f) - 1)), n_out)
        for f in shares
        for p in range(max_len)
    )
    return Mlp(name, inputs, table, n_out)


def parity_table(
    name: str, inputs: tuple[str, str], max_len: int, n_out: int, odd: tuple[int, int]
) -> Mlp:
    """1 where ``count`` has parity ``odd[1]`` and the count of ones (``share * count``)
    parity ``odd[0]``, over (share, count); 0 elsewhere and where nothing is counted."""
    table = tuple(
        int(c > 0 and c % 2 == odd[1] and round(float(f) * c) % 2 == odd[0])
        for f in fractions(max_len)
        for c in range(max_len + 1)
    )
    return Mlp(name, inputs, table, n_out)


def _is_prefix_share(node: Node) -> bool:
    if not isinstance(node, Head) or node.kind != "mean":
        return False
    return [f for f in node.factors if f.predicate != "true"] == [UP_TO]


def _mean(node: Node, factor: Factor, value: str, ones: tuple[int, ...]) -> Head:
    """``node``, a mean head, set to average ``ones`` of ``value`` over ``factor``."""
    assert isinstance(node, Head)
    tail = (TRUE,) * (len(node.factors) - 1)
    return replace(node, factors=(factor, *tail), value=value, ones=ones)


def _depths(program: Program, nodes: list[Node], s: Slots, ups: tuple[int, ...], up: int) -> Move:
    """The shares of ``ups`` of the tokens so far and before, the depths after and before
    each place, and the share of places so far whose depth went below zero."""
    share = _mean(nodes[s.share], UP_TO, "tokens", ups)
    before = _mean(nodes[s.before], BEFORE, "tokens", ups)
    after, ahead = (
        depth_table(t.name, (head.name, "indices"), program.max_len, t.n_out, up, shift)
        for t, head, shift in ((nodes[s.after_table], share, 1), (nodes[s.ahead_table], before, 0))
        if isinstance(t, Mlp)
    )
    below = _mean(nodes[s.below], UP_TO, after.name, (0,))
    return {
        s.share: share,
        s.before: before,
        s.after_table: after,
        s.ahead_table: ahead,
        s.below: below,
    }


def _levels(
    nodes: list[Node], s: Slots, ones: tuple[int, ...], odd: tuple[int, int], max_len: int
) -> Move:
    """The share of ``ones`` of the tokens and the count over the places so far at or
    above the query's level, the parity table marking them, and the share of marked
    places so far (see the module docstring)."""
    after, ahead = nodes[s.after_table].name, nodes[s.ahead_table].name
    sel = (Factor(after, after, ">="), Factor(ahead, after, ">="), UP_TO)
    kind, count, table = nodes[s.kind], nodes[s.count], nodes[s.odd]
    assert isinstance(kind, Head) and isinstance(count, Head) and isinstance(table, Mlp)
    marks = parity_table(table.name, (kind.name, count.name), max_len, table.n_out, odd)
    return {
        s.kind: replace(kind, factors=sel, value="tokens", ones=ones),
        s.count: replace(count, factors=sel),
        s.odd: marks,
        s.seen: _mean(nodes[s.seen], UP_TO, table.name, (1,)),
    }


def _apply(nodes: list[Node], move: Move) -> list[Node]:
    return [move.get(i, node) for i, node in enumerate(nodes)]


_KEPT = 2  # the up-steps (and signs) that fit the output best, tried with every k


def level_move(data: Sample, program: Program, nodes: list[Node], base, output, deadline: float):
    """The best move of the module's kind by training accuracy on ``data`` (the nodes it
    changes and the output's new inputs: the combining table and the share), or
    ``None``; ``base``: the codes and conflicts of ``nodes``."""
    best, best_acc = None, -1.0
    # a set and its complement give the same depths (with the other sign) and parities
    # (with the count's other parity): sets with the first token only
    subsets = [k for k in ones_options(data.variables["tokens"].size) if 0 in k]
    for s in slots(program, nodes, output):
        for depths, codes in _balances(data, program, nodes, base, s, subsets, deadline):
            for ones, odd in itertools.product(subsets, itertools.product((0, 1), (0, 1))):
                if time.monotonic() > deadline:
                    return best
                move = {**depths, **_levels(_apply(nodes, depths), s, ones, odd, program.max_len)}
                table, acc = _joined(data, _apply(nodes, move), codes, s)
                if acc > best_acc:
                    best, best_acc = (
                        ({**move, s.joined: table}, (table.name, nodes[s.share].name)),
                        acc,
                    )
    return best


def _balances(data: Sample, program: Program, nodes: list[Node], base, s: Slots, subsets, deadline):
    """The best few depth moves by how well ``below`` and ``share`` fit the output, each
    with its codes and conflicts."""
    scored = []
    for ups, up in itertools.product(subsets, (1, -1)):
        if time.monotonic() > deadline:
            break
        move = _depths(program, nodes, s, ups, up)
        moved = _apply(nodes, move)
        codes, conflicts = run(data, moved, base, set(move))
        bad = bad_rows(moved, conflicts, len(data.tokens))
        pair = (moved[s.below].name, moved[s.share].name)
        scored.append((best_output(data, codes, bad, [pair])[0], move, (codes, conflicts)))
    scored.sort(key=lambda found: -found[0])
    return [(move, codes) for _, move, codes in scored[:_KEPT]]


def _joined(data: Sample, nodes: list[Node], codes, s: Slots) -> tuple[Mlp, float]:
    """The combining table over (seen, below), fit with an output over (it, share), and
    the accuracy of the two; ``codes``: those of ``nodes`` but the marks."""
    found, conflicts = run(data, nodes, codes, {s.kind, s.count, s.odd, s.seen})
    bad = bad_rows(nodes, conflicts, len(data.tokens))
    table = nodes[s.joined]
    assert isinstance(table, Mlp)
    inputs = (nodes[s.seen].name, nodes[s.below].name)
    start = replace(table, inputs=inputs, formula=None, values=None)
    return combined_table(data, found, bad, start, nodes[s.share].name)
