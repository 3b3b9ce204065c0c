"""RASP-L (np_rasp, "What Algorithms can Transformers Learn?") on rasplab's IR.

A program written against ``from np_rasp import *`` runs with the import
line changed to ``from rasplab.compat.raspl import *``. np_rasp computes on
arrays at once; here the same calls build an ordinary rasplab program, so
it is called on ``tokens`` first and then run, analysed, drawn or compiled:

>>> from rasplab.compat.raspl import *
>>> def running_max_plus_one(x):
...     return maximum(x) + 1
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

Where np_rasp differs from what a lazy program can do: a program cannot ask
for its input's length or values while it is built (``len(x)``, ``x[-1]``,
``if x[0] > 2``); ``aggr`` with an unknown reduction is an error (np_rasp
returns None); np_rasp's ``argmax``, ``argmin`` and ``mode`` call ``kqv``
without a predicate and always fail, and so do these (with a RaspTypeError).
"""

from .core import (
    CAUSAL,
    aggr,
    aggr_max,
    aggr_mean,
    equals,
    full,
    geq,
    gt,
    indices,
    kqv,
    leq,
    lt,
    sel_width,
    select,
    seq_map,
    tok_map,
    tokens,
)
from .lib import (
    argmax,
    argmin,
    binary_mode,
    cumsum,
    first_true,
    firsts,
    has_seen,
    index_select,
    induct,
    induct_kqv,
    induct_prev,
    lasts,
    mask,
    maximum,
    minimum,
    mode,
    num_prev,
    shift_right,
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
