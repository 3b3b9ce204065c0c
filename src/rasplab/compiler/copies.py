"""Before lowering, for a float32 rebuild: what a count compares, read through a copy.

A count head must score every key it selects the same: its output is BOS's
weight ``B / (B + w)``, and neighbouring counts differ by about ``1 / (4 n)`` of
it. Where its selector compares an s-op an MLP computed (most_freq's frequency
key, one-hot), that MLP's float32 errors sit in every direction the head reads,
and the bounds find the scores of its keys spread past what the count allows.
Read through :func:`~.units.exact_copy` instead (a one-hot copied direction by
direction through ramps of slope 4, :func:`.mlp.threshold_copy`), the s-op
holds exactly 0 or 1 in every direction in float arithmetic too
(:mod:`.exact_sums`), and the head's scores carry no error. The copy costs a
layer and two units a direction, so it is built only as a rebuild, where the
first model is proved in float64 alone (:mod:`.float32_rebuilds`).

>>> from rasplab.library import get
>>> program = get("most_freq").build()
>>> copies_help(program)
True
>>> found = copied_counts(program, "for float32")
>>> sorted({note.split(":")[0] for note in found.notes})
['freq_key']
"""

from __future__ import annotations

from ..lang.graph import topological_order
from ..lang.nodes import Map, Node, Select, SelectorWidth, SOp, ZipMap
from .order_digits import embedded_nodes
from .units import exact_copy
from .widths import Rewritten, rebuild

__all__ = ["copied_counts", "copies_help"]


def _counted_selects(program: Node) -> list[Select]:
    """The selects some ``selector_width`` counts over."""
    found: dict[int, Select] = {}
    for node in topological_order(program):
        if isinstance(node, SelectorWidth):
            for below in topological_order(node.selector):
                if isinstance(below, Select):
                    found[below.id] = below
    return list(found.values())


def _computed(sop: Node, embedded: frozenset[int]) -> bool:
    """An s-op an MLP writes after some head: a map or zipmap not itself a copy, of
    neither positions alone nor tokens alone (the embedding writes those exactly)."""
    if not isinstance(sop, Map | ZipMap) or sop.id in embedded:
        return False
    return not (isinstance(sop, Map) and sop.f is exact_copy)


def copies_help(program: Node) -> bool:
    """Whether some count compares an s-op an MLP computed (:func:`copied_counts` would
    change the program)."""
    embedded = embedded_nodes(program)
    sides = (side for s in _counted_selects(program) for side in (s.keys, s.queries))
    return any(_computed(side, embedded) for side in sides)


def copied_counts(program: SOp, why: str) -> Rewritten | None:
    """``program`` with each s-op an MLP computed that a count compares read through one
    exact copy (module docstring); None where there is none."""
    embedded = embedded_nodes(program)
    counted = {s.id for s in _counted_selects(program)}
    made: dict[int, SOp] = {}

    def copy_of(sop: SOp, new: dict[int, Node]) -> SOp:
        if sop.id not in made:
            built = new[sop.id]
            assert isinstance(built, SOp)
            made[sop.id] = Map(exact_copy, built, desc="{0}").named(f"{sop.label}.copy")
        return made[sop.id]

    def change(node: Node, new: dict[int, Node]) -> tuple[Node, str] | None:
        if node.id not in counted or not isinstance(node, Select):
            return None
        sides = {"keys": node.keys, "queries": node.queries}
        moved = {k: copy_of(s, new) for k, s in sides.items() if _computed(s, embedded)}
        if not moved:
            return None
        kept = {k: new[s.id] for k, s in sides.items() if k not in moved}
        names = ", ".join(dict.fromkeys(s.label for k, s in sides.items() if k in moved))
        note = f"{names}: read by a count through an exact copy ({why})"
        return node._copy(**moved, **kept), note

    return rebuild(program, change)
