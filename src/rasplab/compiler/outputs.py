"""How the planner stores the program's output, and how the unembedding reads it.

A categorical output is stored one-hot by default: one direction per value,
one logit each. When its values are distinct numbers it can instead be one
scalar ``x``: the unembedding gives value ``v``, stored as ``x_v``, the
logit ``-(x - x_v)**2`` up to a constant per position (see
:func:`rasplab.compiler.assemble`), so the argmax is the nearest value.
That saves a direction per value and usually MLP units:

* a count output is read straight from its head's ``B / (B + width)``,
  with no decoding MLP;
* an output aggregate that moves numbers writes them as one scalar (a mean
  over the one key it selects, or keys of one value, is that value);
* any other output of numbers is written as one scalar by its MLP.

These are methods of the planner (:class:`rasplab.compiler.layout._Planner`),
kept here to keep that file short.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..lang.nodes import Aggregate, SelectorWidth, SOp
from .fusion import CAT_LIMIT
from .value_sets import is_number

__all__ = ["OutputViews", "SCALAR_LOGITS_SPREAD"]

SCALAR_LOGITS_SPREAD = 1000.0  # (largest - smallest) / smallest gap: logits stay small


class OutputViews:
    """Mixin for the planner: which view of the output is stored."""

    def scalar_select_fit(self) -> bool:
        """An output aggregate that moves numbers can write them as one scalar: a mean
        over the one key it selects (or keys of one value) is that value."""
        node = self.program
        if self.out_view is not None or not isinstance(node, Aggregate):
            return False
        if self.vs.semantics.get(node.id, "select") != "select" or self.vs.too_many(node):
            return False
        return self.scalar_logits_fit(node, self.vs.union(node))

    def output_view(self) -> str:
        """The view of the output to store; sets ``scalar_logits`` when it is one scalar
        the unembedding turns into logits over the output's values."""
        node = self.program
        if self.out_view is not None:
            return self.out_view
        if isinstance(node, Aggregate):
            return self.scalar(node, "num") if self.scalar_select else self.native(node)
        if self.vs.too_many(node):
            return "num"  # make_feature reports the blocker
        values = self.vs.union(node)
        numeric = all(is_number(v, bools=True) for v in values)
        if (node.encoding.value == "numerical" or len(values) > CAT_LIMIT) and numeric:
            return "num"  # a numerical output: the scalar itself, decoded to the nearest value
        if isinstance(node, SelectorWidth):  # the head's B / (B + width), no decoding MLP
            b = self.count_scales.get(node.id, self.scale)
            if self.scalar_logits_fit(node, values, [b / (b + w) for w in values]):
                return self.scalar(node, "x")
        return self.scalar(node, "num") if self.scalar_logits_fit(node, values) else "cat"

    def scalar(self, node: SOp, view: str) -> str:
        self.scalar_logits = True
        self.notes.append(
            f"{self.names[node.id]} is stored as one number; the unembedding gives logits "
            f"over its {len(self.vs.union(node))} values, and the nearest value wins"
        )
        return view

    def scalar_logits_fit(
        self, node: SOp, values: list[Any], stored: list[float] | None = None
    ) -> bool:
        """A categorical output of distinct numbers, read as one-hot by nobody else, is
        stored as one scalar ``x`` (the value, or ``stored[i]`` for ``values[i]``); the
        unembedding turns it into logits ``-(x - x_v)**2`` (up to a constant per
        position), whose argmax is the nearest value. One direction instead of one per
        value, and a narrower MLP or none."""
        if "cat" in self.state.required.get(node.id, set()) or len(values) < 2:
            return False
        if not all(is_number(v) for v in values):  # bools stay one-hot
            return False
        coords = np.unique([float(v) for v in (values if stored is None else stored)])
        if len(coords) < len(values):
            return False  # 1 and 1.0 are two outputs but one scalar
        spread = (coords[-1] - coords[0]) / np.diff(coords).min()
        return bool(spread <= SCALAR_LOGITS_SPREAD)
