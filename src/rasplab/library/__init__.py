"""The program library: the paper's programs, tracr's and raspy's, each with an oracle.

>>> from rasplab.library import sort, reverse
>>> sort()("cab"), reverse()("abc")
(['a', 'b', 'c'], ['c', 'b', 'a'])
"""

from .catalog import PROGRAMS, LibraryProgram, get
from .counting import double_hist, hist
from .dyck import dyck1, dyck2, dyck_k
from .helpers import indicator, selector_width_nobos, shift_by, where
from .sequences import make_length, reverse
from .sorting import most_freq, sort, sort_unique

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
    "indicator",
    "where",
    "selector_width_nobos",
    "shift_by",
]
