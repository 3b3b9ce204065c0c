"""What a learned table of two inputs does on the entries training never reached.

Training sets a table's entries only where the data reach them; the others keep
what they started with, and a test input that reaches one gets that arbitrary
value. Where every reached entry of a row (one value of the first input) has
the same output, the table does not depend on the second input there as far
as the data show, so its unreached entries in that row take that output; the
same for columns. An entry whose row and column would give different outputs
is left as it is. Only unreached entries change, so the outputs on the
training data stay the same.

>>> import numpy as np
>>> table = np.array([[1, 0, 2], [1, 1, 0]])
>>> seen = np.array([[True, False, True], [True, True, False]])
>>> filled(table, seen).tolist()  # row 1 reads 1 wherever seen; column 0 too
[[1, 0, 2], [1, 1, 1]]
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .data import Encoded
from .discrete import Mlp, Program

__all__ = ["filled", "fill_unseen"]

MIN_SEEN = 2  # reached entries a row or column needs before its others follow them


def _line_values(table: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """Per row: the one output of its reached entries, or -1 (several, or too few)."""
    out = np.full(len(table), -1, dtype=np.int64)
    for i, (row, hit) in enumerate(zip(table, seen, strict=True)):
        reached = np.unique(row[hit])
        if hit.sum() >= MIN_SEEN and len(reached) == 1:
            out[i] = reached[0]
    return out


def filled(table: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """``table`` ([a, b] output codes) with its unreached entries following their row's
    or column's one output where the two do not disagree."""
    rows = _line_values(table, seen)[:, None]  # [a, 1]
    cols = _line_values(table.T, seen.T)[None, :]  # [1, b]
    agree = (rows < 0) | (cols < 0) | (rows == cols)
    fill = ~seen & ((rows >= 0) | (cols >= 0)) & agree  # [a, b]
    value = np.where(rows >= 0, rows, cols)
    return np.where(fill, value, table)


def fill_unseen(program: Program, data: Encoded) -> Program:
    """Every two-input table (the output's too) with :func:`filled` entries."""
    from .simplify import _mlps, _seen, _sizes, _swap

    for mlp in [*_mlps(program), program.output]:
        if len(mlp.inputs) != 2 or mlp.formula is not None:
            continue
        sizes = _sizes(program)
        shape = (sizes[mlp.inputs[0]], sizes[mlp.inputs[1]])
        seen = _seen(program, mlp, data).reshape(shape)
        table = filled(np.asarray(mlp.table).reshape(shape), seen)
        program = _swap(program, {mlp.name: _with_table(mlp, table)})
    return program


def _with_table(mlp: Mlp, table: np.ndarray) -> Mlp:
    return replace(mlp, table=tuple(int(x) for x in table.flatten()))
