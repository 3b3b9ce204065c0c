"""A learned program as plain frozen data, and its forward pass in numpy.

The residual stream is a set of named categorical variables. Every variable
holds, at every position, one of its ``values``; the forward pass works on
their codes (positions in ``values``). ``tokens``, ``indices`` and ``length``
(RASP's three primitives) are given;
every head and every MLP adds one variable.

* A head selects with one or two factors, ANDed: each compares a key
  variable with a query variable by a named comparison of their codes
  (``predicate(key, query)``, keys first as in RASP); ``either`` may add more
  such clauses, ORed with the first (RASP's ``|`` of selectors, as in its
  stable sort). A ``cat`` head then
  moves a token-valued variable (RASP's categorical aggregate: the selected
  value, the variable's first value when nothing is selected, and a
  *conflict* when the selected values differ); a ``width`` head counts the
  selected keys; a ``mean`` head averages a 0/1 indicator of its value
  variable (0 when nothing is selected).
* An MLP is a lookup table from the codes of one or two variables to a new
  code; the program's output is such a table onto the output labels.

Codes of token-valued variables follow the order of ``vocab``, which is
sorted where its tokens compare, so code order is value order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache
from typing import Any

import numpy as np

__all__ = [
    "PREDICATES",
    "Variable",
    "Factor",
    "Head",
    "Mlp",
    "Layer",
    "Program",
    "Forward",
    "fractions",
    "forward",
    "reads",
    "used",
]

# The comparisons a factor may use, on codes, as ``predicate(key, query)``.
PREDICATES = ("==", "!=", "<", "<=", ">", ">=", "true")
_COMPARE = {
    "==": np.equal,
    "!=": np.not_equal,
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
}


@cache
def fractions(max_len: int) -> tuple[Fraction, ...]:
    """Every mean of 0/1 values over 1..max_len keys, sorted: a ``mean`` head's values.

    >>> [str(f) for f in fractions(3)]
    ['0', '1/3', '1/2', '2/3', '1']
    """
    found = {Fraction(p, q) for q in range(1, max_len + 1) for p in range(q + 1)}
    return tuple(sorted(found))


@cache
def _fraction_codes(max_len: int) -> np.ndarray:
    """``table[t, c]``: the code of ``t / c`` among :func:`fractions` (0 where ``c`` is 0)."""
    index = {f: i for i, f in enumerate(fractions(max_len))}
    table = np.zeros((max_len + 1, max_len + 1), dtype=np.int64)
    for c in range(1, max_len + 1):
        for t in range(c + 1):
            table[t, c] = index[Fraction(t, c)]
    return table


@dataclass(frozen=True)
class Variable:
    """A named variable: ``kind`` is ``token`` (input tokens), ``int`` or ``frac``."""

    name: str
    kind: str
    values: tuple[Any, ...]

    @property
    def size(self) -> int:
        return len(self.values)


@dataclass(frozen=True)
class Factor:
    """``predicate(key[k], query[q])`` on codes."""

    key: str
    query: str
    predicate: str


@dataclass(frozen=True)
class Head:
    """One attention head: a selector (factors ANDed) and what it computes."""

    name: str
    factors: tuple[Factor, ...]
    kind: str  # "cat" | "width" | "mean"
    value: str | None = None  # the moved (cat) or averaged (mean) variable
    ones: tuple[int, ...] = ()  # mean: the codes of ``value`` that count as 1
    either: tuple[tuple[Factor, ...], ...] = ()  # more clauses (each ANDed), ORed with factors

    @property
    def clauses(self) -> tuple[tuple[Factor, ...], ...]:
        """The selector as clauses ORed, each its factors ANDed (``factors`` first)."""
        return (self.factors, *self.either)


@dataclass(frozen=True)
class Mlp:
    """A lookup table: ``table[code_a * size_b + code_b]`` is the output code.

    ``formula`` (``"a - b"``, ``"a == 3"``: ``a`` and ``b`` name the inputs'
    values) says the table is that expression on every entry; it is printed
    instead of the table. ``values`` are the output values (default
    ``0 .. n_out - 1``).
    """

    name: str
    inputs: tuple[str, ...]  # one or two variable names
    table: tuple[int, ...]
    n_out: int
    formula: str | None = None
    values: tuple[Any, ...] | None = None

    @property
    def out_values(self) -> tuple[Any, ...]:
        return self.values if self.values is not None else tuple(range(self.n_out))


@dataclass(frozen=True)
class Layer:
    heads: tuple[Head, ...] = ()
    mlps: tuple[Mlp, ...] = ()


@dataclass(frozen=True)
class Program:
    """The whole program: inputs, layers, and the output table onto ``labels``."""

    vocab: tuple[Any, ...]
    max_len: int
    layers: tuple[Layer, ...]
    output: Mlp
    labels: tuple[Any, ...]
    names: dict[str, str] = field(default_factory=dict, compare=False)  # readable names

    def variables(self) -> dict[str, Variable]:
        """Every variable by name, in the order they are made."""
        found = {
            "tokens": Variable("tokens", "token", self.vocab),
            "indices": Variable("indices", "int", tuple(range(self.max_len))),
            "length": Variable("length", "int", tuple(range(self.max_len + 1))),
        }
        for layer in self.layers:
            for head in layer.heads:
                found[head.name] = _head_variable(head, found, self.max_len)
            for mlp in layer.mlps:
                found[mlp.name] = Variable(mlp.name, "int", mlp.out_values)
        return found


def _head_variable(head: Head, known: dict[str, Variable], max_len: int) -> Variable:
    if head.kind == "cat":
        moved = known[str(head.value)]
        return Variable(head.name, moved.kind, moved.values)
    if head.kind == "width":
        return Variable(head.name, "int", tuple(range(max_len + 1)))
    return Variable(head.name, "frac", tuple(float(f) for f in fractions(max_len)))


def reads(node: Head | Mlp) -> set[str]:
    """The variables a head or an MLP reads."""
    if isinstance(node, Mlp):
        return set(node.inputs)
    found = {
        name
        for clause in node.clauses
        for f in clause
        if f.predicate != "true"
        for name in (f.key, f.query)
    }
    return found | ({node.value} if node.value is not None else set())


def used(program: Program) -> set[str]:
    """The variables the output depends on (the output table's inputs and what they read)."""
    made: dict[str, Head | Mlp] = {}
    for layer in program.layers:
        made.update({h.name: h for h in layer.heads})
        made.update({m.name: m for m in layer.mlps})
    found: set[str] = set()
    todo = list(program.output.inputs)
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo += sorted(reads(made[name])) if name in made else []
    return found


@dataclass(frozen=True)
class Forward:
    """A forward pass: every variable's codes, the output codes, and conflicts."""

    codes: dict[str, np.ndarray]  # name -> [batch, n] int64
    output: np.ndarray  # [batch, n] int64 codes of ``labels``
    conflict: np.ndarray  # [batch] bool: some cat head selected differing values


def selection(head: Head, codes: dict[str, np.ndarray], mask: np.ndarray) -> np.ndarray:
    """``sel[b, q, k]`` for a head: its clauses ORed, each its factors ANDed; keys past
    the length off.

    ``codes`` here hold what is compared: values for numbers, codes for tokens.
    """
    inside = mask[:, None, :] & mask[:, :, None]  # [batch, n_query, n_key]
    sel = _clause(head.factors, codes, inside)
    for clause in head.either:
        sel = sel | _clause(clause, codes, inside)
    return sel


def _clause(factors: tuple[Factor, ...], codes: dict[str, np.ndarray], sel: np.ndarray):
    """``sel`` and every factor of one clause."""
    for factor in factors:
        if factor.predicate == "true":
            continue
        keys = codes[factor.key][:, None, :]
        queries = codes[factor.query][:, :, None]
        sel = sel & _COMPARE[factor.predicate](keys, queries)
    return sel


def _compared(codes: dict[str, np.ndarray], variables: dict[str, Variable]) -> dict:
    """What selects compare: a number's value, a token's code (in vocabulary order)."""
    out = {}
    for name, code in codes.items():
        var = variables[name]
        if var.kind == "int":
            out[name] = np.asarray([int(v) for v in var.values], dtype=np.int64)[code]
        else:
            out[name] = code
    return out


def _run_head(head: Head, codes, mask, variables) -> tuple[np.ndarray, np.ndarray]:
    """The head's codes ``[batch, n]`` and the rows where a cat head conflicts."""
    sel = selection(head, _compared(codes, variables), mask)
    count = sel.sum(axis=-1)  # [batch, n_query]
    no_conflict = np.zeros(sel.shape[0], dtype=bool)
    if head.kind == "width":
        return count.astype(np.int64), no_conflict
    values = codes[str(head.value)][:, None, :]  # [batch, 1, n_key]
    if head.kind == "cat":
        high = np.where(sel, values, -1).max(axis=-1)
        low = np.where(sel, values, np.iinfo(np.int64).max).min(axis=-1)
        conflict = ((count > 0) & (high != low) & mask).any(axis=-1)
        return np.where(count > 0, high, 0).astype(np.int64), conflict
    ones = np.isin(values, np.asarray(head.ones, dtype=np.int64))
    total = (sel & ones).sum(axis=-1)
    codes_of = _fraction_codes(variables["indices"].size)  # [total, count] -> code
    out = codes_of[total, count]
    return out, no_conflict


def _run_mlp(mlp: Mlp, codes: dict[str, np.ndarray], variables: dict[str, Variable]) -> np.ndarray:
    table = np.asarray(mlp.table, dtype=np.int64)
    index = codes[mlp.inputs[0]]
    if len(mlp.inputs) == 2:
        index = index * variables[mlp.inputs[1]].size + codes[mlp.inputs[1]]
    return table[index]


def forward(program: Program, token_codes: np.ndarray, lengths: np.ndarray) -> Forward:
    """Run ``program`` on token codes ``[batch, n]`` (any code past a row's length).

    Positions past a row's length take part in nothing; their codes are
    meaningless and their outputs are to be ignored.
    """
    batch, n = token_codes.shape
    mask = np.arange(n)[None, :] < lengths[:, None]  # [batch, n]
    variables = program.variables()
    codes = {
        "tokens": np.where(mask, token_codes, 0).astype(np.int64),
        "indices": np.broadcast_to(np.arange(n, dtype=np.int64), (batch, n)).copy(),
        "length": np.broadcast_to(lengths[:, None], (batch, n)).astype(np.int64),
    }
    conflict = np.zeros(batch, dtype=bool)
    needed = used(program)  # only a conflict the output depends on makes a row undefined
    for layer in program.layers:
        outs = {}
        for head in layer.heads:
            outs[head.name], bad = _run_head(head, codes, mask, variables)
            conflict |= bad & (head.name in needed)
        codes.update(outs)
        # the MLPs of a layer read what the layer's heads wrote, not each other
        outs = {mlp.name: _run_mlp(mlp, codes, variables) for mlp in layer.mlps}
        codes.update(outs)
    output = _run_mlp(program.output, codes, variables)
    return Forward(codes, output, conflict)
