"""A compound move of the discrete search (:mod:`rasplab.learn.search`): whether a pair
of neighbouring tokens has occurred so far, combined with what the output reads.

RASP's previous-token idiom, built from free parts of a program in one move:

* a query table becomes ``indices - 1`` and its ``cat`` head
  ``aggregate(select(indices, q, ==), v)``: the token variable ``v`` of the
  place before (the first token at place 0, where nothing is selected);
* a table of that head's layer pairs it with a token variable (one code per
  pair of codes: ``a * size_b + b``), where it has the codes for it;
* a ``mean`` head of a later layer averages, over the places up to each
  place, the indicator of one or two codes of that pair;
* a table of the mean's layer combines the mean with one of the output's
  inputs, and the output reads that table and its other input.

The combining table and the output are fit together in closed form
(:func:`combined_table`): every pair of the table's input codes gets a class
(as many classes as the output has labels), each class an output row,
alternately refit (each class's row by majority, each pair to the class
whose row its examples agree with most), as k-means does. No single-head
move reaches this, since none of the parts raises the accuracy alone.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import replace

import numpy as np

from .discrete import Factor, Head, Mlp, Program, _run_mlp, reads
from .moves import TRUE
from .scoring import Node, Sample, bad_rows, run

__all__ = [
    *("Setup", "setups", "flag_means", "combiners", "combined_table", "bigram_move"),
    "refit",
]

Setup = dict[int, Node]  # node index -> its replacement
_ITERATIONS = 20  # k-means rounds of combined_table (it stops earlier once stable)


def _layers(program: Program) -> dict[str, int]:
    """Each head's and table's layer."""
    found: dict[str, int] = {}
    for number, layer in enumerate(program.layers):
        found.update({head.name: number for head in layer.heads})
        found.update({mlp.name: number for mlp in layer.mlps})
    return found


def _readable(program: Program) -> dict[str, set[str]]:
    """Per head and table, the variables it may read (a table: its layer's heads too)."""
    made, found = {"tokens", "indices", "length"}, {}
    for layer in program.layers:
        found.update({head.name: set(made) for head in layer.heads})
        made |= {head.name for head in layer.heads}
        found.update({mlp.name: set(made) for mlp in layer.mlps})
        made |= {mlp.name for mlp in layer.mlps}
    return found


def unused(nodes: list[Node], output: tuple[str, ...]) -> set[int]:
    """Places of the nodes the output does not depend on."""
    made = {node.name: node for node in nodes}
    used, todo = set(), list(output)
    while todo:
        name = todo.pop()
        if name in made and name not in used:
            used.add(name)
            todo += sorted(reads(made[name]))
    return {i for i, node in enumerate(nodes) if node.name not in used}


def setups(program: Program, nodes: list[Node], output: tuple[str, ...]) -> list[Setup]:
    """The previous token and its pair with a token variable, made of free parts: a
    ``cat`` head whose query is a table only it reads, and a table of its layer."""
    variables, layer, readable = program.variables(), _layers(program), _readable(program)
    where = {node.name: i for i, node in enumerate(nodes)}
    found: list[Setup] = []
    for h, head in enumerate(nodes):
        query = head.factors[0].query if isinstance(head, Head) and head.factors else ""
        if not isinstance(head, Head) or head.kind != "cat" or query not in where:
            continue
        q = where[query]
        table = nodes[q]
        assert isinstance(table, Mlp)
        if not {q, h} <= unused(nodes, output) or table.n_out <= program.max_len:
            continue
        # the place before; at place 0 a value no place has (nothing selected)
        shifted = (table.n_out - 1,) + tuple(range(program.max_len - 1))
        before = Mlp(table.name, ("indices",), shifted, table.n_out)
        tokens = [n for n in readable[head.name] if variables[n].kind == "token"]
        for m, pair in enumerate(nodes):
            if not isinstance(pair, Mlp) or layer[pair.name] != layer[head.name]:
                continue
            if m not in unused(nodes, output):
                continue
            for value, other in itertools.product(tokens, tokens):
                size_b = variables[other].size
                if variables[value].size * size_b > pair.n_out:
                    continue
                moved = Head(head.name, (Factor("indices", query, "=="),), "cat", value)
                moved = replace(moved, factors=moved.factors + (TRUE,) * (len(head.factors) - 1))
                cells = tuple(range(variables[value].size * size_b))
                zipped = Mlp(pair.name, (head.name, other), cells, pair.n_out)
                found.append({q: before, h: moved, m: zipped})
    return found


def flag_means(program: Program, nodes: list[Node], output, setup: Setup, codes) -> list:
    """``(place, head)``: a free ``mean`` head of a later layer than the pair averaging,
    up to each place, the indicator of one or two of the pair's codes seen in ``codes``
    (``nodes`` with ``setup`` made)."""
    pair = next(node for node in setup.values() if isinstance(node, Mlp) and len(node.inputs) == 2)
    layer = _layers(program)
    seen = [int(c) for c in np.unique(codes[pair.name])]
    subsets = [(c,) for c in seen] + list(itertools.combinations(seen, 2))
    free = unused(nodes, output)
    found = []
    for g, head in enumerate(nodes):
        if not isinstance(head, Head) or head.kind != "mean" or g not in free:
            continue
        if layer[head.name] <= layer[pair.name]:
            continue
        prefix = (Factor("indices", "indices", "<="),) + (TRUE,) * (len(head.factors) - 1)
        found += [(g, Head(head.name, prefix, "mean", pair.name, ones)) for ones in subsets]
    return found


def combiners(program: Program, nodes: list[Node], output, mean: str, busy: set[int]) -> list:
    """``(place, table, other)``: a free table (not in ``busy``) that may read ``mean`` and
    the output's input ``table.inputs[1]``, with the output's other input (the output then
    reads the table); ``nodes`` with the mean made."""
    readable = _readable(program)
    free = unused(nodes, output)
    found = []
    for t, table in enumerate(nodes):
        if not isinstance(table, Mlp) or t not in free or t in busy:
            continue
        if mean not in readable[table.name]:
            continue
        for x, y in itertools.permutations(output, 2) if len(output) == 2 else ():
            if x in readable[table.name]:
                found.append((t, replace(table, inputs=(mean, x), formula=None, values=None), y))
    return found


def combined_table(data: Sample, codes: dict, bad: dict, table: Mlp, other: str):
    """``table``'s entries over its two inputs, fit with an output over (table, ``other``)
    (see the module docstring), and the training accuracy of the two together."""
    a, b = table.inputs
    sizes = data.variables
    rows = bad[a] | bad[b] | bad[other]
    keep = data.mask & ~rows[:, None]
    cell = (codes[a] * sizes[b].size + codes[b])[keep]
    cells, inverse = np.unique(cell, return_inverse=True)
    width, labels = sizes[other].size, data.n_labels
    flat = (inverse * width + codes[other][keep]) * labels + data.labels[keep]
    counts = np.bincount(flat, minlength=len(cells) * width * labels)
    counts = counts.reshape(len(cells), width, labels)
    places = np.stack([cells // sizes[b].size, cells % sizes[b].size], axis=1)
    assign = _classes(counts, min(labels, len(cells), table.n_out), places)
    full = _fill_unseen(places, assign[0], sizes[a].size, sizes[b].size)
    return replace(table, table=tuple(full.tolist())), assign[1] / max(data.n_real, 1)


def _fill_unseen(places: np.ndarray, classes: np.ndarray, size_a: int, size_b: int):
    """Every entry's class: a seen cell's own; an unseen one, that of the nearest seen cell
    (fewest steps between the inputs' codes, ``places``: ``[cells, 2]``), since codes are
    in value order and a cell training never shows behaves as its neighbours."""
    grid = np.stack(np.divmod(np.arange(size_a * size_b), size_b), axis=1)
    steps = np.abs(grid[:, None, :] - places[None, :, :]).sum(axis=2)
    return classes[steps.argmin(axis=1)]


def _agreement(counts: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``[cells, classes]``: examples of each cell that each class's output row gets right."""
    one_hot = np.eye(counts.shape[2], dtype=counts.dtype)[rows]  # [classes, width, labels]
    return np.einsum("cwl,kwl->ck", counts, one_hot)


def _settled(counts: np.ndarray, rows: np.ndarray, assign: np.ndarray, places: np.ndarray):
    """``assign`` with each cell that two classes' rows serve equally well (seen only where
    the rows agree: a rare input) in the class of the nearest cell that is not so (fewest
    steps between the inputs' codes, ``places``: ``[cells, 2]``), where that class is one
    of its best; the examples right stay the same."""
    score = _agreement(counts, rows)
    top = score.max(axis=1)
    # classes whose rows are the same are one class here
    distinct = np.unique(rows, axis=0, return_inverse=True)[1].reshape(-1)
    best = [set(distinct[np.flatnonzero(row == top[i])]) for i, row in enumerate(score)]
    tied = np.asarray([len(b) > 1 for b in best], dtype=bool)
    clear = np.flatnonzero(~tied)
    if not tied.any() or not len(clear):
        return assign
    steps = np.abs(places[tied][:, None, :] - places[clear][None, :, :]).sum(axis=2)
    nearest = assign[clear[steps.argmin(axis=1)]]
    fits = score[np.flatnonzero(tied), nearest] == top[tied]
    settled = assign.copy()
    settled[tied] = np.where(fits, nearest, assign[tied])
    return settled


def _classes(counts: np.ndarray, k: int, places: np.ndarray) -> tuple[np.ndarray, int]:
    """Each cell's class, by k-means from the farthest-first rows, and the examples right
    (``places``: each cell's input codes, for ties)."""
    own = counts.argmax(axis=2)  # [cells, width]: each cell's own majority row
    best = counts.max(axis=2).sum(axis=1)  # what a cell's own row gets right
    rows = own[[int(counts.sum(axis=(1, 2)).argmax())]]
    while len(rows) < k:  # add the row of the cell the current rows serve worst
        rows = np.concatenate([rows, own[[int((best - _agreement(counts, rows).max(1)).argmax())]]])
    assign = _agreement(counts, rows).argmax(axis=1)
    for _ in range(_ITERATIONS):
        rows = np.stack([counts[assign == j].sum(axis=0).argmax(axis=1) for j in range(k)])
        again = _agreement(counts, rows).argmax(axis=1)
        if (again == assign).all():
            break
        assign = again
    return _settled(counts, rows, assign, places), int(_agreement(counts, rows).max(axis=1).sum())


def bigram_move(data: Sample, program: Program, nodes: list[Node], base, output, deadline: float):
    """The best move of the module's kind by training accuracy on ``data`` (the nodes it
    changes and the output's new inputs), or ``None``; ``base``: the codes and conflicts
    of ``nodes``."""
    best, best_acc = None, -1.0
    for setup in setups(program, nodes, output):
        moved = [setup.get(i, node) for i, node in enumerate(nodes)]
        codes, conflicts = run(data, moved, base, set(setup))
        for g, mean in flag_means(program, moved, output, setup, codes):
            if time.monotonic() > deadline:
                return best
            flagged = moved[:g] + [mean] + moved[g + 1 :]
            found, bad = run(data, flagged, (codes, conflicts), {g}), None
            bad = bad_rows(flagged, found[1], len(data.tokens))
            busy = set(setup) | {g}
            for t, table, other in combiners(program, flagged, output, mean.name, busy):
                fitted, acc = combined_table(data, found[0], bad, table, other)
                if acc > best_acc:
                    best, best_acc = ({**setup, g: mean, t: fitted}, (table.name, other)), acc
    return best


def refit(data: Sample, nodes: list[Node], codes: dict, bad: dict, output, fitted, before) -> None:
    """In place: a table of ``fitted`` that the output reads, refit with the output
    (:func:`combined_table`) where its codes or the output's other input's are not those of
    ``before`` (a move changed them) and no node reads it."""
    place, other = _fitted(nodes, output, fitted)
    if place < 0 or all(codes[name] is before.get(name) for name in output):
        return
    table = nodes[place]
    if not isinstance(table, Mlp) or any(table.name in reads(node) for node in nodes):
        return
    fitted_table, _ = combined_table(data, codes, bad, table, other)
    nodes[place] = fitted_table
    codes[table.name] = _run_mlp(fitted_table, codes, data.variables)


def recombinations(program: Program, nodes: list[Node], output, fitted) -> list:
    """``(move, output)``: a table of ``fitted`` that the output reads with one of its
    inputs kept and the other any variable it may read, the output reading it and any other
    variable (the table is refit with the output by :func:`refit`)."""
    place, _ = _fitted(nodes, output, fitted)
    if place < 0:
        return []
    table = nodes[place]
    assert isinstance(table, Mlp)
    names, sizes = sorted(_readable(program)[table.name]), program.variables()
    found = []
    for kept, other in itertools.product(table.inputs, names):
        if other in table.inputs:
            continue
        cells = (0,) * (sizes[kept].size * sizes[other].size)
        moved = replace(table, inputs=(kept, other), table=cells)
        made = [{place: moved}] if moved.inputs != table.inputs else []
        found += [(m, (table.name, y)) for m in made for y in _all(nodes) if y != table.name]
    return found


def _all(nodes: list[Node]) -> list[str]:
    return ["tokens", "indices", "length", *(node.name for node in nodes)]


def _fitted(nodes: list[Node], output, fitted) -> tuple[int, str]:
    """The place of a table of ``fitted`` that the output reads with one other input, and
    that input; ``(-1, "")`` where there is none."""
    if len(output) != 2:
        return -1, ""
    for place, node in enumerate(nodes):
        if node.name in fitted and node.name in output:
            return place, output[1 - output.index(node.name)]
    return -1, ""


def joins(nodes: list[Node], output, fitted, move: Setup, variables) -> list:
    """``(move, output)``: ``move`` with the table of ``fitted`` that the output reads now
    reading a head the move changes that the output did not depend on, and one of the
    table's inputs (the table is refit with the output by :func:`refit`)."""
    place, other = _fitted(nodes, output, fitted)
    if place < 0:
        return []
    table, free, found = nodes[place], unused(nodes, output), []
    assert isinstance(table, Mlp)
    for index, node in move.items():
        if not isinstance(node, Head) or index not in free or index > place:
            continue
        for kept in (name for name in table.inputs if name != node.name):
            cells = (0,) * (variables[node.name].size * variables[kept].size)
            joined = replace(table, inputs=(node.name, kept), table=cells)
            found.append(({**move, place: joined}, (table.name, other)))
    return found
