"""Stage 3's split: the width of an 'or' of parts that never hold together, as a sum.

One head counts the keys a selector picks exactly only where it scores every
picked key the same. ``sort``'s tie-break, ``a | b`` with ``a`` comparing
tokens and ``b`` (equal tokens, earlier position) two s-ops at once, has no
such score; but ``a`` and ``b`` never hold together, so the width of
``a | b`` is ``width(a) + width(b)``: one head per part, in one layer, and an
MLP adds the counts. With count scale ``B = k n^2`` the parts' outputs
``B / (B + w)`` stay near enough to linear that the MLP reads the total off
their sum (:func:`near_linear_scale`); past float32's reach it reads each
count apart.

>>> from rasplab import tokens, indices, select, selector_width
>>> from rasplab.compiler.value_sets import infer
>>> from rasplab.compiler.lower import lower
>>> ties = select(tokens, tokens, "==") & select(indices, indices, "<")
>>> earlier = selector_width(select(tokens, tokens, "<") | ties)
>>> low = lower(earlier, infer(earlier, "ab", 4))
>>> [c.label.split(".")[1] for c in low.program.children], set(low.count_scales.values())
(['part0', 'part1'], {32.0})
"""

from __future__ import annotations

from typing import Any, Protocol

from ..lang.nodes import (
    Constant,
    Node,
    Select,
    Selector,
    SelectorAnd,
    SelectorOr,
    SelectorWidth,
    ZipMap,
)
from .selectors import AnyOf, Literal, LiteralTest, Score, Truth
from .value_sets import ValueSets

__all__ = ["WidthSum", "near_linear_scale", "split_parts", "split_width", "to_selector"]

FLOAT32_UNIT = 2.0**-24  # float32's unit roundoff
ROUNDING_STEPS = 8.0  # roundoffs a head's output may carry per key it sums over


_FAR = "at this length float32 cannot keep B / (B + w) near linear"


class _Lowering(Protocol):
    vs: ValueSets
    notes: list[str]
    count_scales: dict[int, float]
    far_counts: str | None  # why every count keeps B = n, where it does

    def kid(self, node: Any) -> Any: ...

    def score(self, f: Any, exact: bool) -> Score | None: ...

    def exclusive(self, a: Any, b: Any) -> bool: ...


def near_linear_scale(k: int, n: int) -> float | None:
    """``B = k n^2``, where float32 still tells ``B / (B + w)`` from its neighbours, else None.

    Neighbouring widths differ by about ``1 / (k n^2)`` there, and a head summing
    ``n + 1`` keys in float32 rounds by up to about ``ROUNDING_STEPS (n + 1) 2^-24``.

    >>> near_linear_scale(2, 64), near_linear_scale(2, 256)
    (8192.0, None)
    """
    scale = float(k * n * n)
    spacing = scale / (scale + n) ** 2
    return scale if spacing > ROUNDING_STEPS * (n + 1) * FLOAT32_UNIT else None


def split_parts(lowering: _Lowering, f: AnyOf) -> list[Any] | None:
    """The parts of ``f`` when no two hold together and one head scores each exactly."""
    kids = list(f.children)
    for a in range(len(kids)):
        for b in range(a + 1, len(kids)):
            if not lowering.exclusive(kids[a], kids[b]):
                return None
    for kid in kids:
        if lowering.score(kid, exact=True) is None:
            return None
    return kids


def split_width(
    lowering: _Lowering,
    node: SelectorWidth,
    parts: list[Any],
    why: str | None = None,
    apart: bool = False,
) -> Node:
    """``node``, the width of an 'or' of ``parts``, as the sum of the parts' widths;
    ``why``: the note's reason, where it is not an 'or' in the user's program;
    ``apart``: each part keeps ``B = n`` and is read on its own (a prefix count that
    another count is subtracted from: its sum is not read off near-linear weights)."""
    widths = [
        SelectorWidth(to_selector(lowering, p)).named(f"{node.label}.part{i}")
        for i, p in enumerate(parts)
    ]
    # With B = k N^2 the heads' outputs B / (B + w) sum to 2 - (sum of w) / B plus a term
    # too small to blur neighbouring sums, so one MLP reads the total off the sum.
    n = lowering.vs.max_seq_len
    scale = None if lowering.far_counts or apart else near_linear_scale(len(parts), n)
    for w in widths:  # past float32's reach, each part keeps B = n and the MLP adds them
        if scale is not None:
            lowering.count_scales[w.id] = scale
    why = why or (
        f"one head cannot count {node.selector.label} exactly (it is an 'or' "
        f"of {len(parts)} parts over different s-ops)"
    )
    lowering.notes.append(
        f"{node.label}: {why}, so {len(parts)} heads count the "
        "parts (in one layer) and the MLP adds them"
        + (
            ""
            if scale
            else f" ({lowering.far_counts or (_APART if apart else _FAR)}, so the MLP reads "
            "each apart)"
        )
    )
    # Two at a time: one MLP adding three counts would be checked on every triple of them
    total: Node = widths[0]
    for i, w in enumerate(widths[1:], start=1):
        total = ZipMap(WidthSum(lowering.vs.max_seq_len), total, w)
        if i < len(widths) - 1:
            total = total.named(f"{node.label}.sum{i}")
    return total.named(node.label) if node.name else total


_APART = "a prefix count: its sum is compared with other counts, each part keeps B = n"


def to_selector(lowering: _Lowering, f: Any) -> Selector:
    """A selector over the rebuilt s-ops that computes formula ``f``."""
    if isinstance(f, Literal):
        key = lowering.kid(f.key) if f.key is not None else Constant(0)
        query = lowering.kid(f.query) if f.query is not None else Constant(0)
        return Select(key, query, LiteralTest(f)).named(f.label)
    if isinstance(f, Truth):
        return Select(Constant(0), Constant(0), "true" if f.value else "false")
    parts = [to_selector(lowering, c) for c in f.children]
    combine = SelectorOr if isinstance(f, AnyOf) else SelectorAnd
    out = parts[0]
    for p in parts[1:]:
        out = combine(out, p)
    return out


class WidthSum:
    """The sum of the widths of disjoint parts: the width of their 'or'. Its value sets are
    the width's own (stage 1 takes them over instead of listing every pair of counts: at
    1,024 positions over a million). Counts of disjoint key sets never add up beyond the
    length: larger sums cannot occur.

    >>> WidthSum(4)(1, 2)
    3
    """

    stands_for_width = True

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def __call__(self, *widths: int) -> int:
        s = sum(widths)
        if s > self.limit:
            raise ValueError("disjoint counts cannot add up beyond the input length")
        return s
