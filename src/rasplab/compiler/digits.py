"""Before lowering: an equality of two wide integers becomes equalities of their digits.

``select(K, Q, "==")`` one-hot takes a residual direction per value of ``K``
and of ``Q``: dyck2's ``level`` holds ``2 n + 1`` values, so its model grows
as ``n^2``. Compared as numbers (:mod:`.quadratic`) it takes four, but where
``K`` and ``Q`` are computed (an MLP writes them, a little off their integers)
float32 keeps the score's gap only while ``3 n^2`` stays small, and a count
over such a select needs its scores even closer (dyck2's ``depth_index``
counts the positions at each level). Split into two digits in base
``b = ceil(sqrt(span))``, ``K == Q`` exactly when ``(K - o) % b == (Q - o) % b``
and ``(K - o) // b == (Q - o) // b``: two one-hot tests of about ``sqrt(span)``
values each, exact in any float type.

An equality is split where a side holds more than ``DIGITS_ABOVE`` values and
float32 cannot compare it as numbers (as the cost model would find), so
``reverse``'s positions, compared as numbers in float32, stay as they are.
Equalities under an ``|`` stay whole too: sort's tie-break, ``K < K'`` or
``K == K'`` and an earlier position, counts two parts that never hold together,
which lowering splits into two heads only while each part is one test of ``K``.

>>> from rasplab import tokens, select, selector_width
>>> from rasplab.compiler.value_sets import infer
>>> count = tokens.map(lambda t: 3 * t).named("three")
>>> width = selector_width(select(count, count, "=="))
>>> found = split_equalities(width, infer(width, range(100), 4), causal=False)
>>> found.notes[0]
'three == three tested as two digits in base 18 (one-hot: 36 directions per side, not 100)'
"""

from __future__ import annotations

import math
from typing import Any

from ..lang.enums import Comparison
from ..lang.graph import topological_order
from ..lang.nodes import (
    Constant,
    Map,
    Node,
    Select,
    SelectorAnd,
    SelectorOr,
    SelectorWidth,
    SOp,
    ZipMap,
)
from .quadratic import joint_plan
from .units import exact_copy
from .value_sets import ValueSets, positional_nodes
from .widths import Rewritten, rebuild

__all__ = ["split_equalities", "number_digit", "digit_map", "shifted", "DIGITS_ABOVE"]

DIGITS_ABOVE = 64  # a side with more values than this is split where numbers fail float32


def split_equalities(
    program: SOp, values: ValueSets, causal: bool, always: str | None = None
) -> Rewritten | None:
    """``program`` with its wide equalities tested digit by digit (module docstring);
    ``always``: also those float32 could compare as numbers, for this reason."""
    positional = positional_nodes(program)
    counted, alternatives = _under(program, SelectorWidth), _under(program, SelectorOr)
    digits: dict[tuple[int, int, int], SOp] = {}  # (node id, base, place) -> its digit

    def change(node: Node, new: dict[int, Node]) -> tuple[Node, str] | None:
        if node.id in alternatives:
            return None
        split = _split(node, values, positional, node.id in counted, always is not None)
        if split is None or not isinstance(node, Select):
            return None
        offset, base, wide, numbers = split

        def digit(side: SOp, place: int) -> SOp:
            inner, shift = shifted(side, values)  # x + c: the digits of x, offset by c
            built = new[inner.id]
            assert isinstance(built, SOp)
            which = (offset - shift, base, place)
            return number_digit(built, which, digits, positional, side.label)

        low, high = (Select(digit(node.keys, p), digit(node.queries, p), "==") for p in (0, 1))
        note = (
            f"{node.keys.label} == {node.queries.label} tested as two digits in base "
            f"{base} (one-hot: {2 * base} directions per side, not {wide})"
            + (f": {always}" if numbers else "")
        )
        return SelectorAnd(low, high), note

    return rebuild(program, change)


def shifted(sop: SOp, values: ValueSets) -> tuple[SOp, int]:
    """``(x, c)`` where ``sop`` is ``x + c`` on every value of ``x``, a computed integer
    (dyck2's ``depth_index - 1``): its digits are those of ``x`` with the offset moved
    by ``c``, read from ``x`` as the MLP that writes it left it (``sop`` itself would
    be decoded to a number once more first). Else ``(sop, 0)``."""
    if not isinstance(sop, Map) or isinstance(sop.inner, Constant):
        return sop, 0
    try:
        xs = _integers(values.union(sop.inner))
        shifts = {sop.f(x) - x for x in xs} if xs else set()
    except (ArithmeticError, LookupError, TypeError, ValueError):  # the map rejects one
        return sop, 0
    if len(shifts) != 1 or not all(type(c) is int for c in shifts):
        return sop, 0
    return sop.inner, shifts.pop()


def _under(program: SOp, kind: type[SelectorWidth] | type[SelectorOr]) -> frozenset[int]:
    """Selectors a ``selector_width`` counts over, or that are part of an ``|``."""
    found: set[int] = set()
    for node in topological_order(program):
        if isinstance(node, kind):
            below = node.selector if isinstance(node, SelectorWidth) else node
            found.update(n.id for n in topological_order(below))
    return frozenset(found)


def _split(
    node: Node, values: ValueSets, positional: frozenset[int], counted: bool, always: bool
) -> tuple[int, int, int, bool] | None:
    """``(offset, base, values on the wider side, whether numbers would have done)`` where
    ``node`` is an equality to split (``always``: also where float32 could compare it)."""
    if not isinstance(node, Select) or node.predicate is not Comparison.EQ:
        return None
    if isinstance(node.keys, Constant) or isinstance(node.queries, Constant):
        return None
    try:
        ks, qs = _integers(values.union(node.keys)), _integers(values.union(node.queries))
    except LookupError:
        return None
    if ks is None or qs is None or max(len(ks), len(qs)) <= DIGITS_ABOVE:
        return None
    computed = node.keys.id not in positional or node.queries.id not in positional
    _, plan = joint_plan([(ks, qs)], values.max_seq_len, computed, counted)
    numbers = plan.dtype == "float32"
    if numbers and not (always and computed):  # positions compare exactly in any type
        return None  # numbers will do
    lo, hi = min(ks + qs), max(ks + qs)
    return lo, math.isqrt(hi - lo) + 1, max(len(ks), len(qs)), numbers


def number_digit(
    sop: SOp,
    which: tuple[int, int, int],
    made: dict,
    positional: frozenset[int],
    label: str | None = None,
) -> SOp:
    """``(sop - offset) % base`` (place 0) or ``// base`` (place 1), one node per s-op,
    offset and digit in ``made``; ``positional``: ids of s-ops the embedding writes;
    ``label``: what the digits are named after (``sop``'s label unless given).

    The embedding writes the digits of positions exactly. A computed number's high
    digit is copied once more (:func:`~.units.exact_copy`): the MLP that cuts ``x``
    into ranges leaves errors in every direction, and the copy rounds them to 0 or 1.
    Its low digit then reads ``x`` beside that copy: alone, an MLP telling ``x % base``
    from ``x`` needs a ramp at every step of ``x``, most of them saturated at once,
    whose cancelling terms round in float32 by more than a digit's gap; beside the
    high digit (only the pairs it makes occur) it is ``x - base * high``, one ramp per
    digit value, its thresholds moved by the high digit. That cut is copied too: read
    as a number or squared (a comparison of digits as numbers), the ramps' terms,
    hundreds in size, rounded in float32 by more than one (causal dyck2's level at 256:
    1.46 in its bounds); the copy reads the cut one-hot, within 3e-4."""
    offset, base, place = which
    key = (sop.id, offset, base, place)
    if key in made:
        return made[key]
    name = f"{label or sop.label}.{_TAGS[place]}"
    if sop.id in positional:
        made[key] = digit_map(sop, offset, base, place, name)
    elif place == 1:
        cut = digit_map(sop, offset, base, place, f"{name}.cut")
        made[key] = Map(exact_copy, cut, desc="{0}").named(name)
    else:
        high = number_digit(sop, (offset, base, 1), made, positional, label)
        low_cut = ZipMap(
            lambda x, _high, o=offset, b=base: (x - o) % b,
            sop,
            high,
            desc=f"({{0}} - {offset}) % {base}" if offset else f"{{0}} % {base}",
        ).named(f"{name}.cut")
        made[key] = Map(exact_copy, low_cut, desc="{0}").named(name)
    return made[key]


_TAGS = ("low", "high")


def digit_map(sop: SOp, offset: int, base: int, place: int, name: str) -> Map:
    """A map of ``sop`` to its digit: ``(x - offset) % base`` (place 0, the low one) or
    ``(x - offset) // base`` (place 1)."""
    if place == 0:
        f, desc = (lambda x, o=offset, b=base: (x - o) % b), "%"
    else:
        f, desc = (lambda x, o=offset, b=base: (x - o) // b), "//"
    text = f"({{0}} - {offset}) {desc} {base}" if offset else f"{{0}} {desc} {base}"
    return Map(f, sop, desc=text).named(name)


def _integers(found: list[Any]) -> list[int] | None:
    out = []
    for v in found:
        if isinstance(v, bool) or not isinstance(v, int | float) or v != int(v):
            return None
        out.append(int(v))
    return out or None
