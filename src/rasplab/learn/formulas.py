"""Tables that are named comparisons or arithmetic, found and rewritten as such.

A table matches a formula when the two agree on every entry the training data
reaches. The rewritten table takes the formula's value on *every* entry (so
the formula printed is exactly what the discrete program computes), and the
tables and heads that read it are re-indexed to its new value set.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import replace
from fractions import Fraction
from typing import Any

import numpy as np

from .data import Encoded
from .decisions import decision_list
from .discrete import Head, Mlp, Program

__all__ = ["find_formulas", "unary_formulas", "binary_formulas"]

Formula = tuple[str, Callable[..., Any]]

_COMPARE = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le}
_COMPARE.update({">": operator.gt, ">=": operator.ge})


def unary_formulas(values: tuple[Any, ...]) -> list[Formula]:
    """Formulas of one input over ``values``, simplest first."""
    found: list[Formula] = [("a", lambda a: a)]
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    span = int(max(abs(v) for v in numbers)) + 1 if numbers else 0
    ints = all(isinstance(v, int) for v in numbers)
    for c in range(1, span + 1) if ints else ():
        found += [(f"a + {c}", lambda a, c=c: a + c), (f"a - {c}", lambda a, c=c: a - c)]
        found += [(f"{c} - a", lambda a, c=c: c - a)]
    # comparisons with the simplest constants first (1/2 before 7/15), so that where the
    # data leave a boundary open it falls on the simplest number (integers keep their order)
    simple = sorted(numbers, key=_denominator)
    for name, op in _COMPARE.items():
        found += [(f"a {name} {v!r}", lambda a, v=v, op=op: op(a, v)) for v in simple]
    return found


def _denominator(v: float) -> int:
    return Fraction(v).limit_denominator(10**6).denominator


def binary_formulas() -> list[Formula]:
    """Formulas of two numeric inputs, simplest first."""
    found: list[Formula] = [(f"a {name} b", op) for name, op in _COMPARE.items()]
    found += [("a + b", operator.add), ("a - b", operator.sub), ("b - a", lambda a, b: b - a)]
    for c in (1, 2):
        found += [(f"a - b - {c}", lambda a, b, c=c: a - b - c)]
        found += [(f"b - a - {c}", lambda a, b, c=c: b - a - c)]
        found += [(f"a + b - {c}", lambda a, b, c=c: a + b - c)]
        found += [(f"a - b + {c}", lambda a, b, c=c: a - b + c)]
        found += [(f"b - a + {c}", lambda a, b, c=c: b - a + c)]
    # masks: ``a`` where ``b`` is 0 (or is not), else 0 (RASP's numerical where)
    found += [("a * (b == 0)", lambda a, b: a * (b == 0))]
    return found + [("a * (b != 0)", lambda a, b: a * (b != 0))]


def _numeric(values: tuple[Any, ...]) -> bool:
    return all(isinstance(v, int | float) for v in values)


def _grid(program: Program, mlp: Mlp) -> list[tuple[Any, ...]]:
    """The input values of every table entry, in table order."""
    variables = program.variables()
    first = variables[mlp.inputs[0]].values
    if len(mlp.inputs) == 1:
        return [(a,) for a in first]
    return [(a, b) for a in first for b in variables[mlp.inputs[1]].values]


def _match(program: Program, mlp: Mlp, seen: np.ndarray, outputs: tuple[Any, ...]):
    """The first formula equal to the table on the seen entries, with its values."""
    variables = program.variables()
    numeric = all(_numeric(variables[i].values) for i in mlp.inputs)
    grid = _grid(program, mlp)
    if len(mlp.inputs) == 1:
        values = variables[mlp.inputs[0]].values
        options = unary_formulas(values) if numeric else [("a", lambda a: a)]
    else:
        options = binary_formulas() if numeric else []
    old = [outputs[c] for c in mlp.table]
    # the output's labels are values as they are (True is not 1); inside, 0/1 and
    # False/True behave the same (compared as numbers, looked up by code)
    same = (lambda n, o: _key(n) == _key(o)) if mlp.name == "output" else operator.eq
    for text, fn in options:
        new = [fn(*args) for args in grid]
        if all(same(n, o) for n, o, hit in zip(new, old, seen, strict=True) if hit):
            return text, new
    # else a few comparisons with constants, where the inputs are numbers (decisions.py)
    found = decision_list(grid, old, seen) if numeric else None
    if found is None:
        return None
    return found[0], [found[1](*args) for args in grid]


def _reindex(program: Program, name: str, old_of_new: np.ndarray, old_size: int) -> Program:
    """Readers of ``name`` re-indexed: new code ``i`` behaves as old code ``old_of_new[i]``
    (their tables are still laid out over ``name``'s ``old_size`` old values)."""
    from .simplify import _nodes, _swap

    sizes = {n: v.size for n, v in program.variables().items()}
    sizes[name] = old_size
    new: dict[str, Any] = {}
    for node in [*_nodes(program), program.output]:
        if isinstance(node, Mlp) and name in node.inputs:
            table = np.asarray(node.table).reshape([sizes[i] for i in node.inputs])
            for axis, i in enumerate(node.inputs):
                if i == name:
                    table = np.take(table, old_of_new, axis=axis)
            new[node.name] = replace(node, table=tuple(int(x) for x in table.flatten()))
        elif isinstance(node, Head) and node.kind == "mean" and node.value == name:
            ones = tuple(i for i, old in enumerate(old_of_new) if old in node.ones)
            new[node.name] = replace(node, ones=ones)
    return _swap(program, new)


def _rewrite(program: Program, mlp: Mlp, text: str, new: list[Any]) -> Program:
    from .simplify import _swap

    old_values = program.labels if mlp.name == "output" else mlp.out_values
    values = sorted(set(new), key=lambda v: (v is not True and v is not False, v))
    if mlp.name == "output":  # labels keep their codes; new values go after them
        values = list(old_values) + [v for v in values if not _among(v, old_values)]
    code = {_key(v): i for i, v in enumerate(values)}
    table = tuple(code[_key(v)] for v in new)
    rewritten = replace(mlp, table=table, n_out=len(values), formula=text, values=tuple(values))
    if mlp.name == "output":
        return replace(_swap(program, {"output": rewritten}), labels=tuple(values))
    old_of_new = np.asarray([_old_code(v, old_values) for v in values], dtype=np.int64)
    swapped = _swap(program, {mlp.name: rewritten})
    return _reindex(swapped, mlp.name, old_of_new, len(old_values))


def _key(v: Any) -> tuple[str, Any]:
    return ("bool", v) if isinstance(v, bool) else ("value", v)


def _among(v: Any, values: tuple[Any, ...]) -> bool:
    return any(_key(v) == _key(w) for w in values)


def _old_code(v: Any, old: tuple[Any, ...]) -> int:
    """The old code of value ``v`` (0, an arbitrary one, where it had none: an unseen entry)."""
    return next((i for i, w in enumerate(old) if _key(w) == _key(v) or w == v), 0)


def find_formulas(program: Program, data: Encoded) -> Program:
    """Rewrite every table that is a formula on the entries ``data`` reaches."""
    from .simplify import _nodes, _seen

    for mlp in [n for n in _nodes(program) if isinstance(n, Mlp)] + [program.output]:
        current = next(m for m in [*_nodes(program), program.output] if m.name == mlp.name)
        assert isinstance(current, Mlp)
        outputs = program.labels if current.name == "output" else current.out_values
        found = _match(program, current, _seen(program, current, data), outputs)
        if found is not None:
            program = _rewrite(program, current, *found)
    return program
