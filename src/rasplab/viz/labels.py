"""Short texts for pictures: values in cells, operations, selector expressions.

Constants are written as their value (``'+'``), not as ``full_6``, because
the pictures leave constant s-ops out.

>>> from rasplab import tokens, indices, select
>>> sel = select(tokens, "+", "==") & select(indices, indices, "<")
>>> selector_expression(sel)
"[k.tokens == q.'+'] & [k.indices < q.indices]"
>>> [cell(v) for v in (True, 1 / 3, 2.0, None, " ", "abcdefghijk")]
['T', '0.333', '2', '-', '␣', 'abcdefgh…']
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from ..lang.nodes import (
    Aggregate,
    AggregationMode,
    Constant,
    Map,
    Node,
    Select,
    Selector,
    SelectorAnd,
    SelectorNot,
    SelectorOr,
    SelectorWidth,
    SOp,
    ZipMap,
)

__all__ = [
    "cell",
    "sequence_text",
    "name",
    "plural",
    "operation",
    "selector_expression",
    "selector_leaves",
    "selector_inputs",
    "MAX_CELL_CHARS",
]

MAX_CELL_CHARS = 9


def cell(value: Any, limit: int = MAX_CELL_CHARS) -> str:
    """One value as a short cell text: ``T``/``F`` for booleans, 3 significant digits for floats."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None:
        text = "-"
    elif isinstance(value, bool):
        text = "T" if value else "F"
    elif isinstance(value, float):
        text = f"{value:.3g}"
    elif isinstance(value, str):
        text = "␣" * len(value) if value.isspace() else (value or "''")
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def sequence_text(values: list[Any], limit: int | None = None) -> str:
    """A whole sequence: joined when every item is one character, else a list.

    Past ``limit`` characters the text is cut short with ``…``.

    >>> sequence_text(list("abc")), sequence_text([1, 22]), sequence_text(list("abcdef"), 4)
    ('abc', '[1, 22]', 'abc…')
    """
    if values and all(isinstance(v, str) and len(v) == 1 and not v.isspace() for v in values):
        text = "".join(values)
    else:
        text = "[" + ", ".join(cell(v, 12) for v in values) + "]"
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def plural(n: int, word: str) -> str:
    """``n word``, with an ``s`` unless ``n`` is 1.

    >>> plural(1, "layer"), plural(2, "head")
    ('1 layer', '2 heads')
    """
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def name(node: Node) -> str:
    """How a node is referred to inside another's description: constants by value."""
    if isinstance(node, Constant):
        return repr(node.value)
    return node.label


def _leaf(sel: Select) -> str:
    return f"[k.{name(sel.keys)} {sel.predicate_name} q.{name(sel.queries)}]"


def selector_expression(sel: Selector, top: bool = True) -> str:
    """A selector as an expression over its ``select`` calls; named inner selectors by name."""
    if not top and sel.name is not None:
        return sel.name
    if isinstance(sel, Select):
        return _leaf(sel)
    if isinstance(sel, SelectorNot):
        return "~" + selector_expression(sel.inner, False)
    if isinstance(sel, SelectorAnd | SelectorOr):
        op = " & " if isinstance(sel, SelectorAnd) else " | "
        parts = [sel.fst, sel.snd]
        text = op.join(_wrapped(p, type(sel)) for p in parts)
        return text
    return sel.describe()


def _wrapped(part: Selector, parent: type) -> str:
    text = selector_expression(part, False)
    compound = isinstance(part, SelectorAnd | SelectorOr) and part.name is None
    return f"({text})" if compound and not isinstance(part, parent) else text


def selector_leaves(sel: Selector | None) -> list[Select]:
    """The ``select`` calls a selector combines, left to right."""
    if sel is None:
        return []
    if isinstance(sel, Select):
        return [sel]
    # The children of a selector combination (and, or, not) are selectors.
    return [
        leaf
        for child in sel.children
        if isinstance(child, Selector)
        for leaf in selector_leaves(child)
    ]


def _unique(nodes: list[SOp]) -> list[SOp]:
    seen: dict[int, SOp] = {}
    for node in nodes:
        seen.setdefault(node.id, node)
    return list(seen.values())


def selector_inputs(sel: Selector | None) -> tuple[list[SOp], list[SOp]]:
    """The distinct key s-ops and query s-ops a selector reads.

    >>> from rasplab import tokens, indices, select
    >>> keys, queries = selector_inputs(select(tokens, indices, "<") | select(tokens, 0, "=="))
    >>> [k.label for k in keys], [name(q) for q in queries]
    (['tokens'], ['indices', '0'])
    """
    leaves = selector_leaves(sel)
    return _unique([s.keys for s in leaves]), _unique([s.queries for s in leaves])


def _fill(template: str, args: list[str]) -> str:
    """``template.format(*args)``, tolerating stray braces from quoted constants like ``'}'``.

    >>> _fill("{0} == '}'", ["tokens"])
    "tokens == '}'"
    """
    try:
        return template.format(*args)
    except (ValueError, IndexError, KeyError):
        return re.sub(
            r"\{(\d+)\}", lambda m: args[int(m[1])] if int(m[1]) < len(args) else m[0], template
        )


def operation(node: Node) -> str:
    """What a node computes, with constants written as values.

    >>> from rasplab import tokens, indices, aggregate, select
    >>> operation(aggregate(select(tokens, "+", "=="), indices, -1))
    "aggregate([k.tokens == q.'+'], indices, default=-1)"
    >>> operation(tokens == "a")
    "tokens == 'a'"
    """
    if isinstance(node, Map | ZipMap):
        args = [name(c) for c in node.children]
        if node.desc:
            return _fill(node.desc, args)
        f = getattr(node.f, "__name__", type(node.f).__name__)
        return f"{node.kind}({f}, {', '.join(args)})"
    if isinstance(node, Aggregate):
        sel = node.selector.name or selector_expression(node.selector)
        mode = "" if node.mode is AggregationMode.MEAN else f", mode={node.mode.value}"
        return f"aggregate({sel}, {name(node.sop)}, default={node.default!r}{mode})"
    if isinstance(node, SelectorWidth):
        sel = node.selector.name or selector_expression(node.selector)
        return f"selector_width({sel})"
    if isinstance(node, Selector):
        return selector_expression(node)
    return node.describe()
