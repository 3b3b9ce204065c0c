"""Why a select of earlier positions makes a compiled model grow as ``max_seq_len`` squared.

A head that weighs every key before its query alike, and the others less,
over inputs where its selector's other tests hold for every pair (a sort of
equal tokens, say), scores keys ``0 .. i-1`` equally from query ``i`` and key
``i`` lower. Then each key vector ``k_i`` lies off the hyperplane on which
``k_0 .. k_{i-1}`` lie, so the ``n`` key vectors span ``n - 1`` dimensions:
the query/key width, and the residual those vectors are read from, are at
least ``max_seq_len - 1``, and the position embedding alone has about
``max_seq_len ** 2`` parameters, whatever encodes the positions. A causal
mask does the comparison ``<=`` by itself (:mod:`.causal`). A count needs no
such head: it is split into heads over the positions' digits, whose counts
add up (:mod:`.order_digits`). An average over such a select keeps one head.

A refusal for size names such a select, so that it says why.

>>> from rasplab import tokens, indices, select, selector_width, aggregate
>>> earlier = select(tokens, tokens, "==") & select(indices, indices, "<")
>>> print(triangle_note(aggregate(earlier, indices), 1024, causal=False))  # doctest: +ELLIPSIS
aggregate_...: its selector compares positions (select(indices, indices, '<'))...
>>> print(triangle_note(selector_width(earlier), 1024, causal=False))
None
"""

from __future__ import annotations

from typing import Any

from ..lang.enums import Comparison
from ..lang.graph import topological_order
from ..lang.nodes import Aggregate, Indices, Node
from .causal import under_mask
from .selectors import Literal, formula

__all__ = ["triangle_note"]

ORDERS = (Comparison.LT, Comparison.LEQ, Comparison.GT, Comparison.GEQ)


def triangle_note(program: Node, max_seq_len: int, causal: bool) -> str | None:
    """A line for a refusal where a head of ``program`` compares positions by their order
    (module docstring); None where none does (what is left of it under a causal mask)."""
    for node in topological_order(program):
        if not isinstance(node, Aggregate):
            continue  # a count is split over the positions' digits instead
        f = formula(node.selector)
        found = _order_literal(under_mask(f) if causal else f)
        if found is not None:
            return (
                f"{node.label}: its selector compares positions "
                f"(select(indices, indices, '{found.predicate.value}')); where its "
                "other tests agree for every pair of positions, a head that weighs the "
                "keys before each query alike has scores in a triangle, "
                f"whose rank is max_seq_len - 1 ({max_seq_len - 1:,} here), so its "
                "query/key width, the residual and the parameters grow with max_seq_len "
                "(the parameters as its square) whatever encodes the positions"
            )
    return None


def _order_literal(f: Any) -> Literal | None:
    if isinstance(f, Literal):
        plain = not f.negated and f.constant is None and f.merged is None
        both = isinstance(f.key, Indices) and isinstance(f.query, Indices)
        return f if plain and both and f.predicate in ORDERS else None
    for child in getattr(f, "children", ()):
        found = _order_literal(child)
        if found is not None:
            return found
    return None
