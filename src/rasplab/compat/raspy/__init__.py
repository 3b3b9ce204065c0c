"""raspy's API on rasplab's IR: replace ``from raspy import *`` and run unchanged.

``from rasplab.compat.raspy import *`` gives raspy's names with raspy's
semantics, and every s-op and selector built is an ordinary rasplab node
(evaluate, analyse, draw and compile it as any other):

* ``tokens`` (also ``identity``), ``indices``, and ``length`` as raspy's blog
  defines it, ``(key(1) == query(1)).value(1)`` (one attention layer);
* ``key(x) OP query(y)`` and ``select(keys, queries, predicate)`` build
  selectors, combined with ``&`` and ``|``;
* ``sel.value(v, default=0)`` and ``aggregate(sel, v, default=0)``: the
  default where nothing is selected, the one selected value itself, or
  Python's ``sum`` of several (bools count 0/1): rasplab's ``sum`` mode;
* ``where``, ``raw``, ``wrap``, ``repeat``, ``SOp.zip``; ``.map``,
  ``.round``, ``.has``, ``.name``; Python's operators on the values, so
  ``&``/``|`` are bitwise and ``~True == -2`` as in raspy;
* ``sop(x)`` and ``sop.input(x)`` return a ``Seq`` (a list, with raspy's
  ``.val``) that Jupyter draws as rasplab's execution view; ``sel(x)``
  returns raspy's ``Sel``, its matrix ``val[key][query]``.

Where raspy differs on purpose: ``~selector`` is refused (raspy's bitwise
``~`` turns every cell true), ``key(x) + query(y)`` and other non-comparisons
are refused, results are always lists (raspy returns a string input as is),
and reflected operators (``1 - indices``) work.

>>> from rasplab.compat.raspy import *
>>> flip = (key(length - indices - 1) == query(indices)).value(tokens)
>>> flip("hello")
['o', 'l', 'l', 'e', 'h']
>>> cumsum = (key(indices) <= query(indices)).value(tokens).name("cumsum")
>>> cumsum.name, cumsum([3, 1, -2])
('cumsum', [3, 4, 2])
"""

from __future__ import annotations

from .display import EXAMPLE, Sel, Seq
from .selectors import Key, Query, aggregate, key, query, select
from .sops import SOp, identity, indices, raw, repeat, tokens, where, wrap

__all__ = [
    "tokens",
    "identity",
    "indices",
    "length",
    "key",
    "query",
    "select",
    "aggregate",
    "where",
    "raw",
    "wrap",
    "repeat",
    "SOp",
    "Key",
    "Query",
    "Seq",
    "Sel",
    "EXAMPLE",
]

length = (key(1) == query(1)).value(1).name("length")
