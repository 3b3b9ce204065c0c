"""Make a learned program small and readable, keeping what it computes.

Exact steps (the same outputs on every input):

* remove heads and MLPs nothing reads, and layers left empty;
* merge tables: a one-input MLP read only by tables is folded into them;
* move every head and MLP to the earliest layer its inputs allow.

Steps that use the training data (the same outputs on every training input,
checked; test accuracy is measured again afterwards):

* ablation: drop a head's second comparison, or one input of a table, where
  the training accuracy does not fall; heads nothing reads then go;
* a mean head over numbers counts the values below (or at and above) a threshold,
  the simplest one that keeps the training accuracy (:mod:`.thresholds`): the
  values the data never made matter then follow it instead of their start;
* a table's entries the data never reach follow their row or column where every
  reached entry there has one output (:mod:`.unseen`);
* a table that equals a named comparison or arithmetic (``a - b - 1``,
  ``a == b``) on every entry the training data reaches is printed as that
  expression; its other entries are set to the expression's values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .data import Encoded
from .decisions import ones_test
from .discrete import Head, Layer, Mlp, Program, forward, reads, used
from .fit import score

__all__ = ["Size", "size", "simplify", "remove_unused", "relayer", "fold_tables"]


@dataclass(frozen=True)
class Size:
    layers: int
    heads: int
    table_entries: int  # entries of tables printed as tables
    lines: int  # lines of .rasp code (comments and blank lines left out)

    def to_dict(self) -> dict[str, int]:
        return dict(
            layers=self.layers, heads=self.heads, table_entries=self.table_entries, lines=self.lines
        )


def size(program: Program) -> Size:
    from .readout import rasp_source

    layers = [layer for layer in program.layers if layer.heads or layer.mlps]
    mlps = [m for layer in program.layers for m in layer.mlps] + [program.output]
    entries = sum(len(m.table) for m in mlps if m.formula is None)
    variables = program.variables()
    entries += sum(
        len(variables[str(h.value)].values)
        for layer in program.layers
        for h in layer.heads
        if h.kind == "mean" and ones_test(variables[str(h.value)].values, h.ones) is None
    )  # a head counting the values that pass one comparison prints that comparison
    lines = [x for x in rasp_source(program).splitlines() if x.strip() and not x.startswith("#")]
    return Size(len(layers), sum(len(la.heads) for la in layers), entries, len(lines))


# ------------------------------------------------------------------ exact steps


def remove_unused(program: Program) -> Program:
    """Drop heads and MLPs the output does not depend on, and empty layers."""
    keep = used(program)
    layers = []
    for layer in program.layers:
        heads = tuple(h for h in layer.heads if h.name in keep)
        mlps = tuple(m for m in layer.mlps if m.name in keep)
        if heads or mlps:
            layers.append(Layer(heads, mlps))
    return replace(program, layers=tuple(layers))


def _heads(program: Program) -> list[Head]:
    return [h for layer in program.layers for h in layer.heads]


def _mlps(program: Program) -> list[Mlp]:
    return [m for layer in program.layers for m in layer.mlps]


def _nodes(program: Program) -> list[Head | Mlp]:
    found: list[Head | Mlp] = []
    for layer in program.layers:
        found += [*layer.heads, *layer.mlps]
    return found


def relayer(program: Program) -> Program:
    """Every head and MLP in the earliest layer its inputs allow (same computation)."""
    place = {"tokens": 0, "indices": 0, "length": 0}  # 2L - 1: heads of layer L; 2L: its MLPs
    for node in _nodes(program):
        start = max((place[v] for v in reads(node)), default=0)
        if isinstance(node, Head):
            place[node.name] = start + 1 if start % 2 == 0 else start + 2
        else:
            place[node.name] = start + 2 if start % 2 == 0 else start + 1
    depth = max([(place[n.name] + 1) // 2 for n in _nodes(program)], default=0)
    layers = []
    for index in range(1, depth + 1):
        heads = tuple(
            h for la in program.layers for h in la.heads if place[h.name] == 2 * index - 1
        )
        mlps = tuple(m for la in program.layers for m in la.mlps if place[m.name] == 2 * index)
        layers.append(Layer(heads, mlps))
    return replace(program, layers=tuple(layers))


def _readers(program: Program, name: str) -> list[Head | Mlp]:
    return [n for n in (*_nodes(program), program.output) if name in reads(n)]


def _sizes(program: Program) -> dict[str, int]:
    return {n: v.size for n, v in program.variables().items()}


def _fold(outer: Mlp, inner: Mlp, sizes: dict[str, int]) -> Mlp:
    """``outer`` with ``inner`` (one input) computed inside it."""
    table = np.asarray(outer.table).reshape([sizes[i] for i in outer.inputs])
    inner_table = np.asarray(inner.table)
    if outer.inputs[0] == inner.name:
        table = table[inner_table]
    if len(outer.inputs) == 2 and outer.inputs[1] == inner.name:
        table = table[:, inner_table]
    inputs = tuple(inner.inputs[0] if i == inner.name else i for i in outer.inputs)
    return replace(outer, inputs=inputs, table=tuple(int(x) for x in table.flatten()), formula=None)


def fold_tables(program: Program) -> Program:
    """Merge each one-input MLP into the tables that read it, when only tables do."""
    for name in [m.name for layer in program.layers for m in layer.mlps if len(m.inputs) == 1]:
        # as it is now: folding an earlier table into it may have changed what it reads
        mlp = next((m for m in _mlps(program) if m.name == name), None)
        if mlp is None:
            continue
        readers = _readers(program, mlp.name)
        if not readers or not all(isinstance(r, Mlp) and r.formula is None for r in readers):
            continue
        sizes = _sizes(program)
        folded = {r.name: _fold(r, mlp, sizes) for r in readers if isinstance(r, Mlp)}
        program = _swap(program, folded)
        program = remove_unused(program)
    return program


def _swap(program: Program, new: dict[str, Any]) -> Program:
    """``program`` with the heads and MLPs named in ``new`` replaced."""
    layers = tuple(
        Layer(
            tuple(new.get(h.name, h) for h in layer.heads),
            tuple(new.get(m.name, m) for m in layer.mlps),
        )
        for layer in program.layers
    )
    return replace(program, layers=layers, output=new.get("output", program.output))


# ------------------------------------------------------------------ steps that use data


def _accuracy(program: Program, data: Encoded) -> float:
    return score(program, data).token_acc


def _seen(program: Program, mlp: Mlp, data: Encoded) -> np.ndarray:
    """Which entries of ``mlp``'s table the data reaches: a bool array of its shape."""
    result = forward(program, data.tokens, data.lengths)
    sizes = _sizes(program)
    real = np.arange(data.tokens.shape[1])[None, :] < data.lengths[:, None]
    index = result.codes[mlp.inputs[0]][real]
    if len(mlp.inputs) == 2:
        index = index * sizes[mlp.inputs[1]] + result.codes[mlp.inputs[1]][real]
    seen = np.zeros(len(mlp.table), dtype=bool)
    seen[index] = True
    return seen


def _drop_input(program: Program, mlp: Mlp, which: int, data: Encoded) -> Mlp:
    """``mlp`` reading only its other input: per value, the table's most common output."""
    sizes = _sizes(program)
    table = np.asarray(mlp.table).reshape(sizes[mlp.inputs[0]], sizes[mlp.inputs[1]])
    seen = _seen(program, mlp, data).reshape(table.shape)
    if which == 0:
        table, seen = table.T, seen.T
    kept = []
    for row, hit in zip(table, seen, strict=True):
        pool = row[hit] if hit.any() else row
        kept.append(int(np.bincount(pool).argmax()))
    return replace(mlp, inputs=(mlp.inputs[1 - which],), table=tuple(kept))


Ablation = Callable[[Program], Program]


def _without_factor(head: Head, factor: Any) -> Ablation:
    def attempt(program: Program) -> Program:
        current = next((h for h in _heads(program) if h.name == head.name), None)
        if current is None or len(current.factors) < 2 or factor not in current.factors:
            return program  # an earlier ablation removed the head or this comparison
        drop = current.factors.index(factor)  # one comparison, even where two are the same
        rest = current.factors[:drop] + current.factors[drop + 1 :]
        return _swap(program, {head.name: replace(current, factors=rest)})

    return attempt


def _without_input(mlp: Mlp, which: int, data: Encoded) -> Ablation:
    def attempt(program: Program) -> Program:
        current = _current(program, mlp)
        if len(current.inputs) < 2:  # an earlier ablation dropped the other input already
            return program
        return _swap(program, {mlp.name: _drop_input(program, current, which, data)})

    return attempt


def _candidates(program: Program, data: Encoded) -> list[Ablation]:
    """Ablations to try, each a function from program to a smaller program."""
    tries: list[Ablation] = []
    for h in _heads(program):
        tries += [_without_factor(h, f) for f in (h.factors if len(h.factors) > 1 else ())]
    for m in [*_mlps(program), program.output]:
        if len(m.inputs) == 2 and m.formula is None:
            tries += [_without_input(m, which, data) for which in (0, 1)]
    return tries


def _current(program: Program, mlp: Mlp) -> Mlp:
    """``mlp`` as it is in ``program`` now (an earlier ablation may have changed it)."""
    return next((m for m in [*_mlps(program), program.output] if m.name == mlp.name), mlp)


def ablate(program: Program, data: Encoded) -> Program:
    """Apply every ablation that keeps the training accuracy, then drop what is unread."""
    base = _accuracy(program, data)
    for attempt in _candidates(program, data):
        smaller = remove_unused(attempt(program))
        if _accuracy(smaller, data) >= base:
            program = smaller
    return program


# ------------------------------------------------------------------ all together

_WORDS = {"width": "width", "cat": "moved", "mean": "share"}


def _word(node: Head | Mlp) -> str:
    if isinstance(node, Mlp):
        return "f"
    if node.kind == "width" and any(all(f.predicate == "true" for f in c) for c in node.clauses):
        return "n_tokens"
    return _WORDS[node.kind]


def rename(program: Program) -> Program:
    """Readable names: ``width``, ``moved``, ``share``, ``f`` (numbered when several)."""
    nodes = _nodes(program)
    words = [_word(n) for n in nodes]
    names, seen = {}, dict.fromkeys(words, 0)
    for node, word in zip(nodes, words, strict=True):
        seen[word] += 1
        names[node.name] = word if words.count(word) == 1 else f"{word}{seen[word]}"
    return replace(program, names=names)


@dataclass(frozen=True)
class Simplified:
    program: Program
    before: Size
    after: Size
    train_acc_before: float
    train_acc_after: float


def simplify(program: Program, train: Encoded, *, ablation: bool = True) -> Simplified:
    """The smaller program (see the module docstring) and the sizes before and after."""
    from .formulas import find_formulas
    from .thresholds import threshold_ones
    from .unseen import fill_unseen

    before, acc = size(program), _accuracy(program, train)
    small = remove_unused(program)
    if ablation:
        small = ablate(small, train)
    small = fill_unseen(threshold_ones(small, train, _accuracy), train)
    small = fold_tables(small)
    small = relayer(remove_unused(find_formulas(small, train)))
    small = rename(small)
    return Simplified(small, before, size(small), acc, _accuracy(small, train))
