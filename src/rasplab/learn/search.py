"""Discrete local search that refines a learned program ("polish").

Gradient training finds most of a program but rarely a head that reads what
an earlier head made (a count of counts, a second comparison on a count).
Those choices are a small discrete space, searched here directly by
coordinate descent over the heads, each in turn, with these moves
(:mod:`rasplab.learn.moves`): ``factor``, ``value``, ``range``, ``chain``
(cheap), then, only in a round where those found nothing, ``joint`` and
``pair`` (costly) over the heads again:

* ``factor``: one comparison replaced by any other (key and query among the
  variables of earlier layers, any predicate);
* ``value``: a ``cat`` head moving another token variable, a ``mean`` head
  averaging another indicator (another variable, other codes counting as 1);
* ``joint``: the best few values each with every comparison, and the best
  few comparisons each with every value;
* ``pair``: both comparisons of a two-factor head, the best few choices for
  one with every choice for the other;
* ``range``: a comparison ``(K, Q, p)`` becomes ``K`` and an earlier count
  bounding ``Q`` from both sides, that count set to any one comparison
  (stable sort: ``select(smaller, indices, <=) and select(smaller_or_equal,
  indices, >)``);
* ``chain``: an earlier count set to any one comparison together with the
  head comparing it with any variable (its other factors ``true``).

Each round begins with two moves of many parts at once, a stable sort by a key
(:mod:`rasplab.learn.sorts`) and nesting levels (:mod:`rasplab.learn.levels`); then
a head the output depends on swaps places with a free head of its kind in an
earlier layer (:func:`~rasplab.learn.moves.relocations`) where the later place
then finds a move that raises the accuracy; then every
two-factor ``cat`` head tries a compaction (:func:`~rasplab.learn.moves.compactions`:
RASP's stable filter, two earlier counts of the keys meeting a condition and
the move between them; most_freq's first copies in order), which changes up to
six heads at once, more than the moves above reach one head at a time; then
the bigram move (:mod:`rasplab.learn.bigrams`: the previous token, a pair
table, a prefix mean of a pair flag and a table combining it with what the
output reads, fit with the output) and a recombination of that table's
inputs, which is tried again after each pass over the heads. Such a table is
refit with the output after every move that changes what it reads.

Every candidate is scored on training examples by the exact forward pass,
with the output table refit in closed form: for each pair of input codes,
the label most often seen there (unseen pairs take the most common label of
the first input's code); its inputs are the current ones or the changed
variables with any other. A move is kept only where the training accuracy
rises, so it never falls; the search stops at 100%, when a round finds
nothing, after ``rounds`` rounds, or at the deadline.

The search scores a sample of the training examples; the combining table
and the output table of the result are refit on all of them, and the result is returned only where
its accuracy on all of them is no lower than the start's.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np

from .bigrams import bigram_move, joins, recombinations, refit
from .data import Encoded
from .discrete import Head, Mlp, Program, reads
from .levels import level_move
from .moves import (
    available,
    chain_moves,
    compactions,
    comparisons,
    factor_moves,
    put,
    range_moves,
    relocations,
    value_moves,
)
from .scoring import (
    Node,
    Sample,
    bad_rows,
    best_output,
    majority_table,
    nodes_of,
    run,
    take_sample,
)
from .sorts import sort_move

__all__ = ["Polished", "polish", "refit_output"]


@dataclass(frozen=True)
class Polished:
    """A polished program and how the search went."""

    program: Program
    start_acc: float  # training accuracy of the program given, on all training examples
    train_acc: float  # the same for the polished program
    history: tuple[float, ...]  # sample accuracy at the start and after every kept move
    moves: int
    rounds: int
    seconds: float


@dataclass
class _State:
    """A program as its nodes in order, every variable's codes and the fitted output."""

    nodes: list[Node]
    codes: dict[str, np.ndarray]
    conflicts: dict[str, np.ndarray]  # cat head -> [batch] rows where it conflicts
    output: tuple[str, ...]  # the output table's inputs
    acc: float
    fitted: frozenset[str] = frozenset()  # tables refit with the output (bigrams.refit)


def _readers(nodes: list[Node], name: str) -> set[str]:
    """``name`` and every variable that depends on it."""
    found = {name}
    for node in nodes:
        if reads(node) & found:
            found.add(node.name)
    return found


def _pairs(names: list[str], changed: set[str], current: tuple[str, ...]) -> list:
    """Output inputs to try: the current ones, and each changed variable alone or with any."""
    found = [current]
    for name in sorted(changed):
        found += [(name,)] + [(name, other) for other in names if other != name]
    return found


Move = dict[int, Node]  # node index -> its replacement


def _evaluate(data: Sample, state: _State, move: Move, pairs: list) -> _State:
    """``state`` with ``move`` made; the output refit over the best of ``pairs``."""
    nodes = [move.get(i, node) for i, node in enumerate(state.nodes)]
    codes, conflicts = run(data, nodes, (state.codes, state.conflicts), set(move))
    bad = bad_rows(nodes, conflicts, len(data.tokens))
    refit(data, nodes, codes, bad, state.output, state.fitted, state.codes)
    acc, output = best_output(data, codes, bad, pairs)
    return _State(nodes, codes, conflicts, output, acc, state.fitted)


def _output_pairs(state: _State, indices: set[int]) -> list:
    changed: set[str] = set()
    for index in indices:
        changed |= _readers(state.nodes, state.nodes[index].name)
    return _pairs(list(state.codes), changed, state.output)


def _try(data: Sample, state: _State, moves: list[Move], deadline: float) -> _State | None:
    """The state after the best of ``moves`` if it beats ``state``, else ``None``."""
    best: _State | None = None
    pairs: dict[frozenset[int], list] = {}
    for move in moves:
        if time.monotonic() > deadline:
            break
        key = frozenset(move)
        pairs.setdefault(key, _output_pairs(state, set(move)))
        found = _evaluate(data, state, move, pairs[key])
        for joined, output in joins(state.nodes, state.output, state.fitted, move, data.variables):
            again = _evaluate(data, replace(state, output=output), joined, [output])
            found = again if again.acc > found.acc else found
        if found.acc > (best or state).acc + 1e-12:
            best = found
    return best


def _at(index: int, heads: list[Head]) -> list[Move]:
    return [{index: head} for head in heads]


def _ranked(data: Sample, state: _State, index: int, candidates: list[Head], deadline) -> list:
    """The best few candidates by accuracy, whether or not they beat ``state``."""
    pairs, scored = _output_pairs(state, {index}), []
    for number, candidate in enumerate(candidates):
        if time.monotonic() > deadline:
            break
        scored.append((_evaluate(data, state, {index: candidate}, pairs).acc, number))
    return [candidates[i] for _, i in sorted(scored, key=lambda pair: -pair[0])[:_TOP]]


def _joint(data: Sample, state: _State, index: int, names: list[str], deadline: float):
    """Both a head's comparison and its value changed: each of the best few values (and
    comparisons) with every comparison (and value)."""
    head, variables = state.nodes[index], data.variables
    assert isinstance(head, Head)
    options = comparisons(names, variables)
    values = value_moves(head, names, variables)
    if not values or time.monotonic() > deadline:
        return None
    found = []
    for value in _ranked(data, state, index, values, deadline):
        found += factor_moves(value, options)
    for factors in _ranked(data, state, index, factor_moves(head, options), deadline):
        found += value_moves(factors, names, variables)
    return _try(data, state, _at(index, found), deadline)


def _start(data: Sample, program: Program) -> _State:
    nodes = nodes_of(program)
    codes, conflicts = run(data, nodes, None, set())
    bad = bad_rows(nodes, conflicts, len(data.tokens))
    acc, output = best_output(data, codes, bad, [program.output.inputs])
    return _State(nodes, codes, conflicts, output, acc)


_TOP = 4  # values (and comparisons) tried with every comparison (and value) by _joint
_CHEAP, _COSTLY = ("factor", "value", "range", "chain"), ("joint", "pair")
_FAMILIES = _CHEAP + _COSTLY


def _family(data: Sample, state: _State, index: int, family: str, available: dict, deadline):
    """The best move of one family for ``nodes[index]`` if it beats ``state``, else ``None``."""
    head = state.nodes[index]
    assert isinstance(head, Head)
    names = available[head.name]
    if family == "joint":
        return _joint(data, state, index, names, deadline)
    if family == "value":
        return _try(data, state, _at(index, value_moves(head, names, data.variables)), deadline)
    if family in ("range", "chain"):
        make = range_moves if family == "range" else chain_moves
        return _try(data, state, make(state.nodes, index, available, data.variables), deadline)
    options = comparisons(names, data.variables)
    if family == "pair":
        pairs = _pairs_of(data, state, index, options, deadline)
        return _try(data, state, _at(index, pairs), deadline)
    return _try(data, state, _at(index, factor_moves(head, options)), deadline)


def _pairs_of(data: Sample, state: _State, index: int, options: list, deadline) -> list[Head]:
    """Both factors of a two-factor head changed: each of the best few choices for one
    factor with every choice for the other."""
    head = state.nodes[index]
    assert isinstance(head, Head)
    if len(head.factors) != 2:
        return []
    found = []
    for slot in (0, 1):
        singles = [replace(head, factors=put(head.factors, slot, f)) for f in options]
        for best in _ranked(data, state, index, singles, deadline):
            found += [replace(best, factors=put(best.factors, 1 - slot, f)) for f in options]
    return found


def _relocate(data: Sample, state: _State, reading: dict[str, list[str]], deadline) -> _State:
    """``state`` after a relocation (see :func:`relocations`) and a search of the head it
    frees, where together they raise the accuracy."""
    for move, output, freed in relocations(state.nodes, state.output, reading):
        moved = _evaluate(data, state, move, [output])
        for family in _FAMILIES:
            if time.monotonic() > deadline:
                return state
            found = _family(data, moved, freed, family, reading, deadline)
            moved = found if found is not None else moved
        if moved.acc > state.acc + 1e-12:
            return moved
    return state


def _round(data: Sample, state: _State, program: Program, deadline: float, history: list) -> _State:
    """One pass of coordinate descent over every head (after moving used heads earlier)."""
    reading = available(program)
    # whole programs in seconds where the model has the parts: before the slower steps
    state = _kept(state, _sort(data, state, program, deadline), history)
    state = _kept(state, _fitted_move(data, state, program, deadline, level_move), history)
    if state.acc >= 1.0:
        return state  # nothing left to gain (recombining took 35 s of dyck2's search)
    relocated = _relocate(data, state, reading, deadline)
    if relocated is not state:
        state = relocated
        history.append(state.acc)
    # a compaction changes several heads together and is cheap to try: before the heads
    for index in range(len(state.nodes) if state.acc < 1.0 else 0):
        moves = compactions(state.nodes, index, reading, data.variables)
        found = _try(data, state, moves, deadline)
        if found is not None:
            state = found
            history.append(state.acc)
    state = _kept(state, _fitted_move(data, state, program, deadline, bigram_move), history)
    state = _kept(state, _recombine(data, state, program, deadline), history)
    began = len(history)
    for families in (_CHEAP, _COSTLY):  # the costly moves where the cheap ones found none
        if families is _COSTLY and len(history) > began:
            break
        for index, node in enumerate(state.nodes):
            for family in families if isinstance(node, Head) else ():
                if state.acc >= 1.0:
                    return state  # nothing left to gain
                found = _family(data, state, index, family, reading, deadline)
                state = _kept(state, found, history)
        state = _kept(state, _recombine(data, state, program, deadline), history)
    return state


def _kept(state: _State, found: _State | None, history: list) -> _State:
    """``found`` where there is one (its accuracy added to ``history``), else ``state``."""
    if found is None:
        return state
    history.append(found.acc)
    return found


def _recombine(data: Sample, state: _State, program: Program, deadline: float):
    """The state after the best of :func:`~rasplab.learn.bigrams.recombinations`, if better."""
    best: _State | None = None
    for move, output in recombinations(program, state.nodes, state.output, state.fitted):
        if time.monotonic() > deadline:
            break
        found = _evaluate(data, replace(state, output=output), move, [output])
        if found.acc > (best or state).acc + 1e-12:
            best = found
    return best


def _sort(data: Sample, state: _State, program: Program, deadline: float) -> _State | None:
    """The state after the best :func:`~rasplab.learn.sorts.sort_move` if it beats it."""
    base = (state.codes, state.conflicts)
    found, _ = sort_move(data, program, state.nodes, base, state.output, deadline)
    moved = None if found is None else _evaluate(data, state, found[0], [found[1]])
    return moved if moved is not None and moved.acc > state.acc + 1e-12 else None


def _fitted_move(data: Sample, state: _State, program: Program, deadline: float, make):
    """The state after the best move ``make`` finds (:func:`~rasplab.learn.bigrams.bigram_move`,
    :func:`~rasplab.learn.levels.level_move`: the nodes and the output's inputs, a table
    of them fit with the output) if it beats ``state``, else ``None``."""
    base = (state.codes, state.conflicts)
    found = make(data, program, state.nodes, base, state.output, deadline)
    if found is None:
        return None
    fitted = replace(state, fitted=state.fitted | {found[1][0]})
    moved = _evaluate(data, fitted, found[0], [found[1]])
    return moved if moved.acc > state.acc + 1e-12 else None


def _rebuild(program: Program, state: _State, output: Mlp) -> Program:
    """``program`` with the state's heads and ``output`` as its output table."""
    from .simplify import _swap

    return _swap(program, {**{node.name: node for node in state.nodes}, "output": output})


def _refit_tables(program: Program, train: Encoded, fitted: frozenset[str]) -> Program:
    """``program`` with the table of ``fitted`` the output reads refit on all of ``train``."""
    if not fitted:
        return program
    full, nodes = take_sample(program, train, 0), nodes_of(program)
    codes, conflicts = run(full, nodes, None, set())
    bad = bad_rows(nodes, conflicts, len(full.tokens))
    refit(full, nodes, codes, bad, program.output.inputs, fitted, {})
    return _rebuild(program, _State(nodes, codes, conflicts, (), 0.0), program.output)


def refit_output(program: Program, data: Encoded) -> Program:
    """``program`` with its output table refit by majority on ``data`` (same inputs)."""
    full = take_sample(program, data, 0)
    codes, conflicts = run(full, nodes_of(program), None, set())
    bad = bad_rows(nodes_of(program), conflicts, len(full.tokens))
    return replace(program, output=majority_table(full, codes, bad, program.output.inputs))


def polish(
    program: Program,
    train: Encoded,
    *,
    rounds: int = 4,
    deadline: float = math.inf,
    sample: int = 1000,
) -> Polished:
    """Coordinate descent from ``program`` (see the module docstring)."""
    from .fit import score

    began = time.monotonic()
    data = take_sample(program, train, sample)
    state = _start(data, program)
    history = [state.acc]
    done = 0
    while done < rounds and time.monotonic() < deadline and state.acc < 1.0:
        done, before = done + 1, len(history)
        state = _round(data, state, program, deadline, history)
        if len(history) == before:
            break
    shaped = _rebuild(program, state, replace(program.output, inputs=state.output))
    found = refit_output(_resized(_refit_tables(shaped, train, state.fitted), data), train)
    start_acc, acc = score(program, train).token_acc, score(found, train).token_acc
    if acc < start_acc:
        found, acc = program, start_acc
    moves, seconds = len(history) - 1, time.monotonic() - began
    return Polished(found, start_acc, acc, tuple(history), moves, done, seconds)


def _resized(program: Program, data: Sample) -> Program:
    """``program`` whose output table has the size its inputs need (entries refit later)."""
    inputs = program.output.inputs
    cells = math.prod(data.variables[name].size for name in inputs)
    return replace(program, output=replace(program.output, table=(0,) * cells))
