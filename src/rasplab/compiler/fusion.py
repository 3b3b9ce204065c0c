"""How the planner fuses elementwise steps, and what it stores when fusing is not enough.

Four moves keep MLP work in as few layers as the analysis allows:

* *look through*: an MLP may read the inputs of a stored s-op instead of the
  s-op itself when that lets it run a layer earlier;
* *hoist*: a sub-expression whose inputs are all ready before the MLP's last
  input is stored by an earlier MLP (the MLP then reads one leaf, not many);
* *coarse leaves*: a map of positions with few values (``indices == 0``) is
  written by the embedding and read instead of ``indices``;
* *fix*: when no one-layer MLP computes an s-op exactly, store a number first
  (then one-hot it), or store the attention outputs it combines one-hot.

These are methods of the planner (:class:`rasplab.compiler.layout._Planner`),
kept here to keep that file short.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..lang.graph import ATTENTION
from ..lang.nodes import Constant, Map, SOp, ZipMap
from .features import Feature
from .plans import HeadPlan
from .schedule import assign_blocks, mlp_ready
from .value_sets import is_number

__all__ = ["Fusion", "CAT_LIMIT", "cannot"]

CAT_LIMIT = 4096  # most values a one-hot s-op may have


class Fusion:
    """Mixin for the planner: look-through, hoisting and fixes."""

    def ready(self, f: Feature) -> int:
        return mlp_ready(f, self.blocks, self.heads_out)

    def look_through(self, found: list[Feature], through: set[int]) -> set[int]:
        """Stored MLP outputs that delay this MLP, whose own inputs are ready earlier."""
        if not self.blocks or not found:
            return set()
        latest = max(self.ready(f) for f in found)
        more = set()
        for f in found:
            if self.ready(f) < latest:
                continue
            node = self.nodes[f.key[0]]
            if f.producer != "mlp" or isinstance(node, ATTENTION):
                return set()  # the latest input is attention or embedding: no gain
            inner = self.walk(node, through)
            if not inner or max(self.ready(g) for g in inner) >= latest:
                return set()
            more.add(node.id)
        return more

    def coarse(self, node: SOp) -> bool:
        """A map of positions with few values: the embedding writes it, and MLPs read it
        instead of ``indices`` (their domains then do not grow with every position)."""
        if node.id not in self.positional or not isinstance(node, Map | ZipMap):
            return False
        if self.vs.too_many(node):
            return False
        size = len(self.vs.union(node))
        return size >= 2 and 4 * size <= self.vs.max_seq_len

    # ------------------------------------------------------------ fixing

    def fix(self, output: Feature, leaves: list[Feature], result: Any) -> bool:
        """Store an intermediate so that ``output`` becomes computable a layer later."""
        node = self.nodes[output.key[0]]
        name = self.names[node.id]
        numeric = all(is_number(v, bools=True) for v in output.values)
        fresh_view = output.key not in self.state.via and not isinstance(node, ATTENTION)
        if output.kind == "cat" and numeric and fresh_view:
            self.need(node, "num")
            self.state.via[output.key] = (node.id, "num")
            self.notes.append(
                f"{name}: one MLP cannot turn its inputs into a one-hot exactly; an MLP "
                "stores it as a number first and the next layer's MLP one-hots it"
            )
            return True
        fresh = [f for f in leaves if f.kind == "num" and not f.binary]
        fresh = [f for f in fresh if self.nodes[f.key[0]].id not in self.state.prefer_cat]
        fresh = [f for f in fresh if len(f.values) <= CAT_LIMIT]
        if len(fresh) < 2 and not (result == "too-many" and fresh):
            return False
        for f in fresh:
            leaf_node = self.nodes[f.key[0]]
            self.state.prefer_cat.add(leaf_node.id)
            self.need(leaf_node, "cat")
        shown = ", ".join(self.names[f.key[0]] for f in fresh)
        self.notes.append(
            f"{name}: one MLP cannot combine {shown} exactly as they come from attention, so "
            "they are stored one-hot first (one more MLP step)"
        )
        return True

    # ------------------------------------------------------------ hoisting

    def hoist(self, heads: list[HeadPlan], mlps: list) -> bool:
        """Store sub-expressions whose inputs are ready a layer before the MLP that needs them."""
        blocks = assign_blocks(heads, mlps)
        heads_out = {h.output.key for h in heads}
        changed = False
        for out, leaves in mlps:
            node = self.nodes[out.key[0]]
            if out.key in self.state.via or isinstance(node, ATTENTION) or len(leaves) < 2:
                continue
            ready = {f.key[0]: mlp_ready(f, blocks, heads_out) for f in leaves}
            latest = max(ready.values())
            late = {nid for nid, r in ready.items() if r == latest}
            for cand in self.hoistable(node, late):
                self.need(cand, self.hoist_view(cand))
                self.notes.append(
                    f"{self.names[cand.id]} is stored by an earlier MLP, as its inputs are "
                    f"ready before {self.names[node.id]}'s last input"
                )
                changed = True
        return changed

    def hoistable(self, node: SOp, late: set[int]) -> list[SOp]:
        leafsets: dict[int, frozenset[int]] = {}
        parents: dict[int, list[SOp]] = {}

        def leafset(n: SOp) -> frozenset[int]:
            if n.id not in leafsets:
                if isinstance(n, Constant):
                    leafsets[n.id] = frozenset()
                elif n is not node and self.stored(n):
                    leafsets[n.id] = frozenset({n.id})
                else:
                    for c in n.children:
                        parents.setdefault(c.id, []).append(n)
                    leafsets[n.id] = frozenset().union(*(leafset(c) for c in n.children))
            return leafsets[n.id]

        leafset(node)
        found = []
        for nid, ls in leafsets.items():
            n = self.nodes[nid]
            if n is node or isinstance(n, Constant) or self.stored(n) or ls & late:
                continue
            if len(ls) >= 2 and any(leafsets[p.id] & late for p in parents.get(nid, [])):
                found.append(n)
        return found

    def hoist_view(self, node: SOp) -> str:
        if self.vs.too_many(node):
            return "num"
        values = self.vs.union(node)
        small = len(values) <= max(64, 2 * self.vs.max_seq_len + 2)
        return "cat" if small or not all(is_number(v, bools=True) for v in values) else "num"


def cannot(out: Feature, leaves: list[Feature], result: Any) -> str:
    names = ", ".join(f.name for f in leaves)
    if result == "too-many":
        return (
            f"{out.name}: the MLP computing it would have to be exact on too many input "
            f"combinations of {names}; compile for a smaller max_seq_len or vocabulary"
        )
    if len(leaves) == 1 and leaves[0].key[0] == out.key[0] and len(leaves[0].coords) > 1:
        return _too_close(out, leaves[0])
    return (
        f"{out.name}: no exact one-layer MLP computes it from {names}; split the expression "
        "so that each step combines at most one averaged or counted value with others"
    )


def _too_close(out: Feature, number: Feature) -> str:
    """The one-hot of a stored number failed: name its two closest values."""
    order = np.argsort(number.coords, kind="stable")
    gaps = np.diff(np.asarray(number.coords)[order])
    k = int(gaps.argmin())
    a, b = number.values[order[k]], number.values[order[k + 1]]
    if gaps[k] > 1e-9 * max(1.0, float(np.abs(number.coords).max())):
        return f"{out.name}: stored as a number, it cannot be one-hot exactly by one MLP"
    return (
        f"{out.name}: stored as a number, it cannot be one-hot exactly: {a!r} and {b!r} are "
        f"{float(gaps[k]):.1e} apart; round its values (for example round(x, 6)) so that values "
        "meant to be equal are equal"
    )
