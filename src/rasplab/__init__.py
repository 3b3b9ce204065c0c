"""rasplab: a laboratory for transformer programming with RASP.

>>> from rasplab import tokens, indices, length, select, aggregate, analyse, parse
>>> reverse = aggregate(select(indices, length - indices - 1, "=="), tokens)
>>> reverse("abc")
['c', 'b', 'a']
>>> analyse(reverse).heads_per_layer
(1, 1)
>>> program = parse("flip = select(indices, length - indices - 1, ==);"
...                 "rev = aggregate(flip, tokens);")
>>> program.evaluate("abc")
['c', 'b', 'a']
"""

from .analysis import Analysis, analyse
from .errors import RaspError, RaspSyntaxError
from .evaluate import Trace, evaluate, evaluate_batch
from .lang import (
    Comparison,
    Encoding,
    Selector,
    SOp,
    aggregate,
    categorical,
    full,
    indices,
    key,
    length,
    map,
    numerical,
    query,
    select,
    selector_width,
    tokens,
    zipmap,
)

__version__ = "0.1.0"

# The surface language loads lark and its grammar: import it on first use.
_LAZY = {"parse": "syntax", "load": "syntax", "RaspProgram": "syntax"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'rasplab' has no attribute {name!r}")


__all__ = [
    "tokens",
    "indices",
    "length",
    "select",
    "aggregate",
    "selector_width",
    "map",
    "zipmap",
    "full",
    "numerical",
    "categorical",
    "key",
    "query",
    "evaluate",
    "evaluate_batch",
    "analyse",
    "Trace",
    "Analysis",
    "Comparison",
    "Encoding",
    "SOp",
    "Selector",
    "RaspError",
    "RaspSyntaxError",
    "parse",
    "load",
    "RaspProgram",
]
