"""Check, input by input, that the read-out program computes what the discrete model does.

Nothing about the read-out is assumed: :func:`equivalence` runs the
discrete forward pass and the rasplab evaluator on the same inputs and
compares every output. Rows where the discrete model is undefined (a
categorical head the output depends on selected differing values) are
counted apart: there the evaluator raises an ``AggregateError`` for tokens
that are not numbers and averages numbers, and the model's prediction
counts as wrong.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import EvaluationError
from ..evaluate import evaluate, evaluate_batch
from ..lang.graph import value_key
from ..lang.nodes import SOp
from .discrete import PREDICATES, Factor, Head, Layer, Mlp, Program, forward

__all__ = ["Equivalence", "encode", "run_discrete", "equivalence", "random_program"]


@dataclass(frozen=True)
class Equivalence:
    checked: int  # inputs compared
    mismatches: int  # inputs where the two differ
    undefined: int  # inputs where the model is undefined (a conflicting categorical head)
    example: str = ""  # the first mismatch, in words

    @property
    def equal(self) -> bool:
        return self.mismatches == 0


def encode(program: Program, inputs: Sequence[Sequence[Any]]) -> tuple[np.ndarray, np.ndarray]:
    """Token codes ``[batch, max_len]`` (0 past the end) and lengths ``[batch]``."""
    codes = {value_key(t): i for i, t in enumerate(program.vocab)}
    n = max((len(x) for x in inputs), default=1)
    out = np.zeros((len(inputs), n), dtype=np.int64)
    for row, xs in enumerate(inputs):
        out[row, : len(xs)] = [codes[value_key(t)] for t in xs]
    return out, np.asarray([len(x) for x in inputs], dtype=np.int64)


def run_discrete(program: Program, inputs: Sequence[Sequence[Any]]) -> list[list[Any] | None]:
    """The discrete model's outputs as labels; ``None`` where it is undefined."""
    codes, lengths = encode(program, inputs)
    result = forward(program, codes, lengths)
    rows: list[list[Any] | None] = []
    for row, n in enumerate(lengths):
        if result.conflict[row]:
            rows.append(None)
        else:
            rows.append([program.labels[c] for c in result.output[row, :n]])
    return rows


def _same(a: list[Any], b: list[Any]) -> bool:
    return len(a) == len(b) and all(value_key(x) == value_key(y) for x, y in zip(a, b, strict=True))


def _evaluate_rows(sop: SOp, inputs: Sequence[Sequence[Any]]) -> list[list[Any] | None]:
    try:
        return [list(r) for r in evaluate_batch(sop, [list(x) for x in inputs])]
    except EvaluationError:  # some row fails (a conflict): run them one by one
        rows: list[list[Any] | None] = []
        for xs in inputs:
            try:
                rows.append(list(evaluate(sop, list(xs))))
            except EvaluationError:
                rows.append(None)
        return rows


def equivalence(program: Program, sop: SOp, inputs: Sequence[Sequence[Any]]) -> Equivalence:
    """Compare the discrete model and the evaluated s-op on every input."""
    expected = run_discrete(program, inputs)
    got = _evaluate_rows(sop, inputs)
    bad, undefined, example = 0, 0, ""
    for xs, want, have in zip(inputs, expected, got, strict=True):
        if want is None:
            undefined += 1
        elif have is None or not _same(want, have):
            bad += 1
            example = example or f"on {list(xs)!r}: model {want!r}, program {have!r}"
    return Equivalence(len(inputs), bad, undefined, example)


def _random_factor(rng: random.Random, readable: list[str]) -> Factor:
    return Factor(rng.choice(readable), rng.choice(readable), rng.choice(PREDICATES))


def _random_head(rng: random.Random, program_vars: dict, name: str, kind: str) -> Head:
    readable = [n for n, v in program_vars.items() if v.kind != "frac"]
    factors = tuple(_random_factor(rng, readable) for _ in range(rng.choice((1, 2))))
    # a third of the heads OR a second clause (RASP's `|`, as in its sort)
    clause = tuple(_random_factor(rng, readable) for _ in range(rng.choice((1, 2))))
    either = (clause,) if rng.random() < 1 / 3 else ()
    if kind == "width":
        return Head(name, factors, "width", either=either)
    if kind == "cat":
        movable = [n for n, v in program_vars.items() if v.kind == "token"]
        return Head(name, factors, "cat", rng.choice(movable), either=either)
    value = rng.choice(list(program_vars))
    ones = tuple(i for i in range(program_vars[value].size) if rng.random() < 0.5)
    return Head(name, factors, "mean", value, ones, either=either)


def _random_mlp(rng: random.Random, program_vars: dict, name: str, n_out: int) -> Mlp:
    inputs = tuple(rng.sample(list(program_vars), rng.choice((1, 2))))
    size = int(np.prod([program_vars[i].size for i in inputs]))
    return Mlp(name, inputs, tuple(rng.randrange(n_out) for _ in range(size)), n_out)


def random_program(
    rng: random.Random, vocab: tuple[Any, ...], max_len: int, layers: int
) -> Program:
    """A random discrete program (for tests of the read-out)."""
    labels = ("no", "yes", 3)
    built: list[Layer] = []
    program = Program(vocab, max_len, (), Mlp("output", ("tokens",), (0,) * len(vocab), 3), labels)
    for index in range(layers):
        known = program.variables()
        heads = tuple(
            _random_head(rng, known, f"l{index}_{kind}", kind) for kind in ("cat", "width", "mean")
        )
        built.append(Layer(heads, ()))
        known = Program(vocab, max_len, tuple(built), program.output, labels).variables()
        built[-1] = Layer(heads, (_random_mlp(rng, known, f"l{index}_mlp", 4),))
    known = Program(vocab, max_len, tuple(built), program.output, labels).variables()
    return Program(vocab, max_len, tuple(built), _random_mlp(rng, known, "output", 3), labels)
