"""Discrete local search that refines a learned program ("polish").

Gradient training finds most of a program but rarely a head that reads what
an earlier head made (a count of counts, a second comparison on a count).
Those choices are a small discrete space, searched here directly:
coordinate descent over every head's comparisons (one factor at a time, and
both factors of a two-factor head together), its moved or averaged
variable and, for a ``mean`` head, which of its codes count as 1. Every
candidate is scored on training examples by the exact forward pass, with the
output table refit in closed form: for each pair of input codes, the label
most often seen there (unseen pairs take the most common label of the first
input's code). A head may read only variables of earlier layers, as in the
model. A move is kept only where the training accuracy rises, so it never
falls; the search stops when a round finds nothing, after ``rounds``
rounds, or at the deadline.

The search scores a sample of the training examples; the output table of
the result is refit on all of them, and the result is returned only where
its accuracy on all of them is no lower than the start's.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, replace

import numpy as np

from .data import Encoded
from .discrete import (
    PREDICATES,
    Factor,
    Head,
    Mlp,
    Program,
    Variable,
    _run_head,
    _run_mlp,
    reads,
)

__all__ = ["Polished", "polish", "refit_output"]

Node = Head | Mlp


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


@dataclass(frozen=True)
class _Data:
    """The examples the search scores, with what every candidate needs."""

    tokens: np.ndarray
    lengths: np.ndarray
    labels: np.ndarray  # [batch, n], -100 past the end
    mask: np.ndarray  # [batch, n] real positions
    variables: dict[str, Variable]
    n_labels: int
    n_real: int


@dataclass
class _State:
    """A program as its nodes in order, every variable's codes and the fitted output."""

    nodes: list[Node]
    codes: dict[str, np.ndarray]
    conflicts: dict[str, np.ndarray]  # cat head -> [batch] rows where it conflicts
    output: tuple[str, ...]  # the output table's inputs
    acc: float


def _data(program: Program, data: Encoded, rows: int) -> _Data:
    n = min(rows, len(data.tokens)) if rows > 0 else len(data.tokens)
    tokens, lengths, labels = data.tokens[:n], data.lengths[:n], data.labels[:n]
    mask = np.arange(tokens.shape[1])[None, :] < lengths[:, None]
    variables = program.variables()
    return _Data(tokens, lengths, labels, mask, variables, len(program.labels), int(mask.sum()))


def _nodes(program: Program) -> list[Node]:
    found: list[Node] = []
    for layer in program.layers:
        found += [*layer.heads, *layer.mlps]
    return found


def _inputs(data: _Data) -> dict[str, np.ndarray]:
    """The codes of ``tokens``, ``indices`` and ``length``."""
    batch, n = data.tokens.shape
    return {
        "tokens": np.where(data.mask, data.tokens, 0).astype(np.int64),
        "indices": np.broadcast_to(np.arange(n, dtype=np.int64), (batch, n)),
        "length": np.broadcast_to(data.lengths[:, None], (batch, n)).astype(np.int64),
    }


def _run(data: _Data, nodes: list[Node], state: _State | None, start: int) -> tuple[dict, dict]:
    """Codes and conflicts, with ``nodes[start]`` and whatever reads it recomputed."""
    if state is None:
        codes: dict[str, np.ndarray] = _inputs(data)
        conflicts: dict[str, np.ndarray] = {}
    else:
        codes, conflicts = dict(state.codes), dict(state.conflicts)
    dirty: set[str] = set()
    for index, node in enumerate(nodes):
        if state is not None and (index < start or (index > start and not reads(node) & dirty)):
            continue
        if isinstance(node, Head):
            codes[node.name], bad = _run_head(node, codes, data.mask, data.variables)
            if node.kind == "cat":
                conflicts[node.name] = bad
        else:
            codes[node.name] = _run_mlp(node, codes, data.variables)
        dirty.add(node.name)
    return codes, conflicts


def _bad_rows(nodes: list[Node], conflicts: dict[str, np.ndarray], batch: int) -> dict:
    """Per variable, the rows where a cat head it depends on conflicts."""
    none = np.zeros(batch, dtype=bool)
    bad: dict[str, np.ndarray] = {"tokens": none, "indices": none, "length": none}
    for node in nodes:
        rows = conflicts.get(node.name, none)
        for name in reads(node):
            rows = rows | bad.get(name, none)
        bad[node.name] = rows
    return bad


def _counts(data: _Data, codes: dict, bad: dict, inputs: tuple[str, ...]) -> np.ndarray:
    """``[cells, labels]`` label counts per output table entry, undefined rows left out."""
    sizes = [data.variables[name].size for name in inputs]
    index = codes[inputs[0]]
    if len(inputs) == 2:
        index = index * sizes[1] + codes[inputs[1]]
    rows = np.zeros(len(data.tokens), dtype=bool)
    for name in inputs:
        rows = rows | bad[name]
    keep = data.mask & ~rows[:, None]
    cells = math.prod(sizes)
    flat = index[keep] * data.n_labels + data.labels[keep]
    return np.bincount(flat, minlength=cells * data.n_labels).reshape(cells, data.n_labels)


def _best_output(data: _Data, codes: dict, bad: dict, pairs) -> tuple[float, tuple[str, ...]]:
    """The best training accuracy over the output inputs in ``pairs``, and those inputs."""
    best: tuple[float, tuple[str, ...]] = (-1.0, ())
    for inputs in pairs:
        acc = float(_counts(data, codes, bad, inputs).max(axis=1).sum()) / max(data.n_real, 1)
        if acc > best[0]:
            best = (acc, inputs)
    return best


def _table(data: _Data, codes: dict, bad: dict, inputs: tuple[str, ...]) -> Mlp:
    """The output table over ``inputs`` by majority vote; unseen entries by the first input."""
    counts = _counts(data, codes, bad, inputs)
    first = data.variables[inputs[0]].size
    by_first = counts.reshape(first, -1, data.n_labels).sum(axis=1)  # [size_a, labels]
    overall = int(counts.sum(axis=0).argmax())
    fallback = np.where(by_first.sum(axis=1) > 0, by_first.argmax(axis=1), overall)
    default = np.repeat(fallback, len(counts) // first)
    table = np.where(counts.sum(axis=1) > 0, counts.argmax(axis=1), default)
    return Mlp("output", inputs, tuple(int(x) for x in table), data.n_labels)


def _available(program: Program) -> dict[str, list[str]]:
    """Per head, the variables it may read: the inputs and those of earlier layers."""
    made, found = ["tokens", "indices", "length"], {}
    for layer in program.layers:
        found.update({head.name: list(made) for head in layer.heads})
        made += [head.name for head in layer.heads] + [mlp.name for mlp in layer.mlps]
    return found


def _factors(names: list[str], variables: dict[str, Variable]) -> list[Factor]:
    """Every comparison of two variables that selects compare (no ``frac``), and ``true``."""
    chosen = [n for n in names if variables[n].kind != "frac"]
    found = [Factor("tokens", "tokens", "true")]
    for key, query in itertools.product(chosen, chosen):
        found += [Factor(key, query, p) for p in PREDICATES if p != "true"]
    return found


def _factor_moves(head: Head, options: list[Factor]) -> list[Head]:
    """The head with one of its factors replaced by another comparison."""
    found = []
    for index, old in enumerate(head.factors):
        for factor in options:
            if factor != old:
                factors = head.factors[:index] + (factor,) + head.factors[index + 1 :]
                found.append(replace(head, factors=factors))
    return found


def _pair_moves(head: Head, options: list[Factor]) -> list[Head]:
    """A two-factor head with both factors replaced together."""
    if len(head.factors) != 2:
        return []
    pairs = itertools.combinations(options, 2)
    return [replace(head, factors=pair) for pair in pairs if set(pair) != set(head.factors)]


def _ones_options(size: int) -> list[tuple[int, ...]]:
    """Sets of codes that count as 1: every proper subset of a few codes, else single
    codes and the codes below or above a cut."""
    codes = range(size)
    if size <= 4:
        subsets = (c for k in range(1, size) for c in itertools.combinations(codes, k))
        return list(subsets)
    found: list[tuple[int, ...]] = [(c,) for c in codes]
    found += [tuple(range(c + 1)) for c in range(1, size - 1)]
    return found + [tuple(range(c, size)) for c in range(1, size - 1)]


def _value_moves(head: Head, names: list[str], variables: dict[str, Variable]) -> list[Head]:
    """A cat head moving another token variable; a mean head averaging another indicator."""
    if head.kind == "cat":
        tokens = [n for n in names if variables[n].kind == "token" and n != head.value]
        return [replace(head, value=name) for name in tokens]
    if head.kind != "mean":
        return []
    found = []
    for name in names:
        for ones in _ones_options(variables[name].size):
            if (name, ones) != (head.value, head.ones):
                found.append(replace(head, value=name, ones=ones))
    return found


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


def _evaluate(data: _Data, state: _State, index: int, candidate: Head, pairs: list) -> _State:
    """``state`` with ``nodes[index]`` replaced; the output refit over the best of ``pairs``."""
    nodes = [*state.nodes[:index], candidate, *state.nodes[index + 1 :]]
    codes, conflicts = _run(data, nodes, state, index)
    bad = _bad_rows(nodes, conflicts, len(data.tokens))
    acc, output = _best_output(data, codes, bad, pairs)
    return _State(nodes, codes, conflicts, output, acc)


def _output_pairs(state: _State, index: int) -> list:
    return _pairs(list(state.codes), _readers(state.nodes, state.nodes[index].name), state.output)


def _try(data: _Data, state: _State, index: int, candidates: list[Head], deadline: float):
    """The best candidate for ``nodes[index]`` if it beats ``state``, else ``None``."""
    best: _State | None = None
    pairs = _output_pairs(state, index)
    for candidate in candidates:
        if time.monotonic() > deadline:
            break
        found = _evaluate(data, state, index, candidate, pairs)
        if found.acc > (best or state).acc + 1e-12:
            best = found
    return best


def _ranked(data: _Data, state: _State, index: int, candidates: list[Head], top: int) -> list:
    """The ``top`` candidates by accuracy, whether or not they beat ``state``."""
    pairs = _output_pairs(state, index)
    scored = [(_evaluate(data, state, index, c, pairs).acc, i) for i, c in enumerate(candidates)]
    return [candidates[i] for _, i in sorted(scored, key=lambda pair: -pair[0])[:top]]


def _joint(data: _Data, state: _State, index: int, names: list[str], deadline: float):
    """Both a head's comparison and its value changed: each of the best few values (and
    comparisons) with every comparison (and value)."""
    head, variables = state.nodes[index], data.variables
    assert isinstance(head, Head)
    options = _factors(names, variables)
    values = _value_moves(head, names, variables)
    if not values or time.monotonic() > deadline:
        return None
    found = []
    for value in _ranked(data, state, index, values, _TOP):
        found += _factor_moves(value, options)
    for factors in _ranked(data, state, index, _factor_moves(head, options), _TOP):
        found += _value_moves(factors, names, variables)
    return _try(data, state, index, found, deadline)


def _start(data: _Data, program: Program) -> _State:
    nodes = _nodes(program)
    codes, conflicts = _run(data, nodes, None, 0)
    bad = _bad_rows(nodes, conflicts, len(data.tokens))
    acc, output = _best_output(data, codes, bad, [program.output.inputs])
    return _State(nodes, codes, conflicts, output, acc)


_TOP = 4  # values (and comparisons) tried with every comparison (and value) by _joint
_FAMILIES = ("factor", "value", "pair", "joint")


def _family(data: _Data, state: _State, index: int, family: str, names: list[str], deadline):
    """The best move of one family for ``nodes[index]`` if it beats ``state``, else ``None``."""
    head = state.nodes[index]
    assert isinstance(head, Head)
    if family == "joint":
        return _joint(data, state, index, names, deadline)
    if family == "value":
        return _try(data, state, index, _value_moves(head, names, data.variables), deadline)
    options = _factors(names, data.variables)
    moves = _factor_moves if family == "factor" else _pair_moves
    return _try(data, state, index, moves(head, options), deadline)


def _round(data: _Data, state: _State, program: Program, deadline: float, history: list) -> _State:
    """One pass of coordinate descent over every head."""
    available = _available(program)
    for index, node in enumerate(state.nodes):
        if not isinstance(node, Head):
            continue
        for family in _FAMILIES:
            found = _family(data, state, index, family, available[node.name], deadline)
            if found is not None:
                state = found
                history.append(state.acc)
    return state


def _rebuild(program: Program, state: _State, output: Mlp) -> Program:
    """``program`` with the state's heads and ``output`` as its output table."""
    from .simplify import _swap

    return _swap(program, {**{node.name: node for node in state.nodes}, "output": output})


def refit_output(program: Program, data: Encoded) -> Program:
    """``program`` with its output table refit by majority on ``data`` (same inputs)."""
    full = _data(program, data, 0)
    codes, conflicts = _run(full, _nodes(program), None, 0)
    bad = _bad_rows(_nodes(program), conflicts, len(full.tokens))
    return replace(program, output=_table(full, codes, bad, program.output.inputs))


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
    data = _data(program, train, sample)
    state = _start(data, program)
    history = [state.acc]
    done = 0
    while done < rounds and time.monotonic() < deadline:
        done, before = done + 1, len(history)
        state = _round(data, state, program, deadline, history)
        if len(history) == before:
            break
    shaped = _rebuild(program, state, replace(program.output, inputs=state.output))
    found = refit_output(_resized(shaped, data), train)
    start_acc, acc = score(program, train).token_acc, score(found, train).token_acc
    if acc < start_acc:
        found, acc = program, start_acc
    moves, seconds = len(history) - 1, time.monotonic() - began
    return Polished(found, start_acc, acc, tuple(history), moves, done, seconds)


def _resized(program: Program, data: _Data) -> Program:
    """``program`` whose output table has the size its inputs need (entries refit later)."""
    inputs = program.output.inputs
    cells = math.prod(data.variables[name].size for name in inputs)
    return replace(program, output=replace(program.output, table=(0,) * cells))
