"""rasplab: a laboratory for transformer programming with RASP.

>>> from rasplab import tokens, indices, length, select, aggregate, analyse
>>> reverse = aggregate(select(indices, length - indices - 1, "=="), tokens)
>>> reverse("abc")
['c', 'b', 'a']
>>> analyse(reverse).heads_per_layer
(1, 1)
"""

from .analysis import Analysis, analyse
from .errors import RaspError
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
]
