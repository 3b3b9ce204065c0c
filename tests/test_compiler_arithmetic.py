"""The language's ``+ - *`` over coded columns equals Python's, value for value and type."""

import random

import numpy as np
import pytest

from rasplab import indices, length
from rasplab.compiler.arithmetic import by_arithmetic
from rasplab.lang.graph import value_key


def _python(f, args):
    out = []
    for row in range(len(args[0][0])):
        codes = [int(c[row]) for c, _ in args]
        out.append(
            None if min(codes) < 0 else f(*(t[c] for c, (_, t) in zip(codes, args, strict=True)))
        )
    return out


@pytest.mark.parametrize("op", ["+", "-", "*"])
@pytest.mark.parametrize("kinds", [(int, int), (float, float), (int, float)])
def test_columns_match_python_per_row(op, kinds):
    rng = random.Random(7)
    f = {"+": length + indices, "-": length - indices, "*": length * indices}[op].f
    tables = [
        [kind(rng.randint(-50, 50)) + (0.25 if kind is float else 0) for _ in range(9)]
        for kind in kinds
    ]
    tables = [list(dict.fromkeys(t)) for t in tables]
    args = [(np.array([rng.randrange(-1, len(t)) for _ in range(300)]), t) for t in tables]
    codes, table = by_arithmetic(f, args)
    got = [None if c < 0 else table[c] for c in codes.tolist()]
    want = _python(f, args)
    assert [value_key(g) if g is not None else None for g in got] == [
        value_key(w) if w is not None else None for w in want
    ]


def test_other_functions_and_tables_are_left_to_python():
    col = (np.array([0, 1]), [1, 2])
    assert by_arithmetic(lambda a, b: a - b, [col, col]) is None  # a user's function
    f = (length - indices).f
    assert by_arithmetic(f, [(np.array([0]), [1, 2.5]), col]) is None  # ints mixed with floats
    assert by_arithmetic(f, [(np.array([0]), ["a"]), col]) is None
    assert by_arithmetic(f, [(np.array([0]), [2**40]), col]) is None  # beyond exact products
