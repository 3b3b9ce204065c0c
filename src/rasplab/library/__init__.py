"""The program library: the paper's programs, tracr's and raspy's, each with an oracle.

Every program is a function returning an s-op (call it with no arguments
for the version that reads ``tokens``); ``PROGRAMS`` lists each with its
plain-Python reference, vocabulary, examples and input sampler.

>>> from rasplab.library import sort, reverse, add
>>> sort()("cab"), reverse()("abc")
(['a', 'b', 'c'], ['c', 'b', 'a'])
>>> "".join(add()("19492+23919"))
'00000043411'
"""

from .arith import add
from .catalog import PROGRAMS, LibraryProgram, get
from .counting import count, double_hist, frac_prevs, hist, pair_balance
from .dyck import dyck1, dyck2, dyck_k
from .helpers import indicator, next_where, prefix_count, selector_width_nobos, shift_by, where
from .search import first, minimum
from .sequences import index, make_length, reverse, shift
from .sorting import most_freq, sort, sort_unique
from .text import ralign, slide, split

length = make_length

__all__ = [
    "PROGRAMS",
    "LibraryProgram",
    "get",
    "length",
    "reverse",
    "hist",
    "double_hist",
    "sort",
    "sort_unique",
    "most_freq",
    "dyck1",
    "dyck2",
    "dyck_k",
    "frac_prevs",
    "shift",
    "pair_balance",
    "count",
    "minimum",
    "first",
    "index",
    "ralign",
    "split",
    "slide",
    "add",
    "indicator",
    "where",
    "selector_width_nobos",
    "shift_by",
    "prefix_count",
    "next_where",
]
