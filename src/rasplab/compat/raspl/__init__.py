"""RASP-L (np_rasp, "What Algorithms can Transformers Learn?") on rasplab's IR.

Code written against ``from np_rasp import *`` runs with the import line
changed to ``from rasplab.compat.raspl import *``, and nothing else. The
functions work both ways np_rasp code uses them.

Eagerly, as np_rasp itself: given numpy arrays (or lists), a function
returns np_rasp's numpy array at once, so ``len(x)``, ``x[-1]``, ``if`` and
loops that generate token by token work; each call is built as rasplab IR
and run by rasplab's evaluator (see :mod:`.eager`):

>>> import numpy as np
>>> from rasplab.compat.raspl import *
>>> def running_max_plus_one(x):
...     return maximum(x) + 1
>>> running_max_plus_one(np.array([3, 1, 4, 1, 5]))
array([4, 4, 5, 5, 6])

Lazily, given ``tokens``: the same calls build an ordinary rasplab program,
run later on any input, or analysed, drawn or compiled:

>>> prog = running_max_plus_one(tokens)
>>> prog([3, 1, 4, 1, 5])
array([4, 4, 5, 5, 6])

``prog.sop`` is the rasplab s-op; every select in it is causal
(``select(...) & select(indices, indices, "<=")``), so a decoder can be
compiled from it:

>>> from rasplab.compiler import compile_program
>>> model = compile_program(prog.sop, vocab=range(6), max_seq_len=5, causal=True)
>>> model([3, 1, 4, 1, 5])
[4, 4, 5, 5, 6]

One call takes arrays throughout or sequences throughout; mixing them is a
RaspTypeError. What still differs from np_rasp: arguments of one call must
have one length (np_rasp's ``seq_map`` zips to the shortest); a selector
matrix handed back to ``sel_width``/``aggr`` must be a square bool matrix,
as ``select`` makes; a lazy program cannot ask for its input's length or
values while it is built (``len(x)``, ``x[-1]``, ``if x[0] > 2``: write such
code eagerly); ``aggr`` with an unknown reduction is an error (np_rasp
returns None); np_rasp's ``argmax``, ``argmin`` and ``mode`` call ``kqv``
without a predicate and always fail, and so do these (with a RaspTypeError);
errors raised inside your functions arrive as rasplab's ``EvaluationError``.
"""

from .core import CAUSAL, equals, geq, gt, leq, lt, tokens
from .eager import (
    aggr,
    aggr_max,
    aggr_mean,
    argmax,
    argmin,
    binary_mode,
    cumsum,
    first_true,
    firsts,
    full,
    has_seen,
    index_select,
    indices,
    induct,
    induct_kqv,
    induct_prev,
    kqv,
    lasts,
    mask,
    maximum,
    minimum,
    mode,
    num_prev,
    sel_width,
    select,
    seq_map,
    shift_right,
    tok_map,
    where,
)
from .values import Seq, run

__all__ = [
    "tokens",
    "full",
    "indices",
    "tok_map",
    "seq_map",
    "select",
    "sel_width",
    "aggr",
    "aggr_mean",
    "aggr_max",
    "kqv",
    "equals",
    "leq",
    "lt",
    "geq",
    "gt",
    "CAUSAL",
    "shift_right",
    "cumsum",
    "where",
    "mask",
    "maximum",
    "minimum",
    "argmax",
    "argmin",
    "num_prev",
    "has_seen",
    "firsts",
    "lasts",
    "index_select",
    "first_true",
    "mode",
    "binary_mode",
    "induct_kqv",
    "induct",
    "induct_prev",
    "Seq",
    "run",
]
