"""RASP's own language: parser, interpreter to the IR, standard library, REPL and runner.

``parse(source)`` and ``load(path)`` run a RASP program and return a
``RaspProgram``: a namespace of the s-ops, selectors and functions it
defined, which the evaluator, the analysis and everything else take as they
are (they are ordinary rasplab IR nodes).

>>> from rasplab import analyse
>>> prog = parse('''
... flip = select(indices, length - indices - 1, ==);
... reverse = aggregate(flip, tokens);
... ''')
>>> prog.reverse("abc")
['c', 'b', 'a']
>>> analyse(prog.output).heads_per_layer
(1, 1)
"""

from ..errors import RaspSyntaxError
from .errors import (
    LimitError,
    LookupFailedError,
    LoopLimitError,
    RaspLoadError,
    RecursionLimitError,
    ReservedNameError,
    UndefinedNameError,
)
from .program import LIBRARY_NAMES, RaspProgram, load, parse, stdlib_source
from .repl import Repl, run_repl
from .runner import RunResult, run_inputs
from .values import Limits, RaspFunction, read_tokens

__all__ = [
    "parse",
    "load",
    "RaspProgram",
    "RaspFunction",
    "Limits",
    "read_tokens",
    "stdlib_source",
    "LIBRARY_NAMES",
    "Repl",
    "run_repl",
    "run_inputs",
    "RunResult",
    "RaspSyntaxError",
    "UndefinedNameError",
    "ReservedNameError",
    "LimitError",
    "RecursionLimitError",
    "LoopLimitError",
    "RaspLoadError",
    "LookupFailedError",
]
