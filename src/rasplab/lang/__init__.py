"""The program IR and the Python ways to build it."""

from .dsl import (
    aggregate,
    categorical,
    full,
    indices,
    length,
    map,
    numerical,
    select,
    selector_width,
    tokens,
    zipmap,
)
from .nodes import (
    Aggregate,
    AggregationMode,
    Comparison,
    Constant,
    Encoding,
    Indices,
    Length,
    Map,
    Node,
    Select,
    Selector,
    SelectorAnd,
    SelectorNot,
    SelectorOr,
    SelectorWidth,
    SOp,
    Tokens,
    ZipMap,
    is_atom,
)
from .sugar import key, query

__all__ = [
    "tokens", "indices", "length", "select", "aggregate", "selector_width", "map", "zipmap",
    "numerical", "categorical", "full", "key", "query",
    "Node", "SOp", "Selector", "Tokens", "Indices", "Length", "Constant", "Map", "ZipMap",
    "Select", "SelectorAnd", "SelectorOr", "SelectorNot", "Aggregate", "SelectorWidth",
    "Comparison", "Encoding", "AggregationMode", "is_atom",
]
