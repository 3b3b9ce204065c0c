"""Scoring for the discrete search (:mod:`rasplab.learn.search`): the exact forward pass
on a sample of training examples, recomputing only what a move changes, and the output
table refit in closed form (the label most often seen for each pair of input codes)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .data import Encoded
from .discrete import Head, Mlp, Program, Variable, _run_head, _run_mlp, reads

__all__ = [
    *("Node", "Sample", "take_sample", "nodes_of", "run", "bad_rows"),
    *("label_counts", "best_output", "majority_table"),
]

Node = Head | Mlp


@dataclass(frozen=True)
class Sample:
    """The examples the search scores, with what every candidate needs."""

    tokens: np.ndarray
    lengths: np.ndarray
    labels: np.ndarray  # [batch, n], -100 past the end
    mask: np.ndarray  # [batch, n] real positions
    variables: dict[str, Variable]
    n_labels: int
    n_real: int


def take_sample(program: Program, data: Encoded, rows: int) -> Sample:
    n = min(rows, len(data.tokens)) if rows > 0 else len(data.tokens)
    tokens, lengths, labels = data.tokens[:n], data.lengths[:n], data.labels[:n]
    mask = np.arange(tokens.shape[1])[None, :] < lengths[:, None]
    variables = program.variables()
    return Sample(tokens, lengths, labels, mask, variables, len(program.labels), int(mask.sum()))


def nodes_of(program: Program) -> list[Node]:
    found: list[Node] = []
    for layer in program.layers:
        found += [*layer.heads, *layer.mlps]
    return found


def _inputs(data: Sample) -> dict[str, np.ndarray]:
    """The codes of ``tokens``, ``indices`` and ``length``."""
    batch, n = data.tokens.shape
    return {
        "tokens": np.where(data.mask, data.tokens, 0).astype(np.int64),
        "indices": np.broadcast_to(np.arange(n, dtype=np.int64), (batch, n)),
        "length": np.broadcast_to(data.lengths[:, None], (batch, n)).astype(np.int64),
    }


def run(data: Sample, nodes: list[Node], base: tuple[dict, dict] | None, moved: set[int]):
    """Codes and conflicts (cat head -> rows): all computed where ``base`` is ``None``, else
    ``base``'s with the ``moved`` nodes and whatever reads them recomputed."""
    if base is None:
        codes: dict[str, np.ndarray] = _inputs(data)
        conflicts: dict[str, np.ndarray] = {}
    else:
        codes, conflicts = dict(base[0]), dict(base[1])
    dirty: set[str] = set()
    for index, node in enumerate(nodes):
        if base is not None and index not in moved and not reads(node) & dirty:
            continue
        if isinstance(node, Head):
            codes[node.name], bad = _run_head(node, codes, data.mask, data.variables)
            if node.kind == "cat":
                conflicts[node.name] = bad
        else:
            codes[node.name] = _run_mlp(node, codes, data.variables)
        dirty.add(node.name)
    return codes, conflicts


def bad_rows(nodes: list[Node], conflicts: dict[str, np.ndarray], batch: int) -> dict:
    """Per variable, the rows where a cat head it depends on conflicts."""
    none = np.zeros(batch, dtype=bool)
    bad: dict[str, np.ndarray] = {"tokens": none, "indices": none, "length": none}
    for node in nodes:
        rows = conflicts.get(node.name, none)
        for name in reads(node):
            rows = rows | bad.get(name, none)
        bad[node.name] = rows
    return bad


def label_counts(data: Sample, codes: dict, bad: dict, inputs: tuple[str, ...]) -> np.ndarray:
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


def best_output(data: Sample, codes: dict, bad: dict, pairs) -> tuple[float, tuple[str, ...]]:
    """The best training accuracy over the output inputs in ``pairs``, and those inputs."""
    best: tuple[float, tuple[str, ...]] = (-1.0, ())
    for inputs in pairs:
        acc = float(label_counts(data, codes, bad, inputs).max(axis=1).sum()) / max(data.n_real, 1)
        if acc > best[0]:
            best = (acc, inputs)
    return best


def majority_table(data: Sample, codes: dict, bad: dict, inputs: tuple[str, ...]) -> Mlp:
    """The output table over ``inputs`` by majority vote; unseen entries by the first input."""
    counts = label_counts(data, codes, bad, inputs)
    first = data.variables[inputs[0]].size
    by_first = counts.reshape(first, -1, data.n_labels).sum(axis=1)  # [size_a, labels]
    overall = int(counts.sum(axis=0).argmax())
    fallback = np.where(by_first.sum(axis=1) > 0, by_first.argmax(axis=1), overall)
    default = np.repeat(fallback, len(counts) // first)
    table = np.where(counts.sum(axis=1) > 0, counts.argmax(axis=1), default)
    return Mlp("output", inputs, tuple(int(x) for x in table), data.n_labels)
