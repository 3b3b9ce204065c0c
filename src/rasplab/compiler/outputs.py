"""Stage 4: how the planner stores the program's output, and how the unembedding reads it.

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

Both choices are plain functions of the program and its value sets: the
scalar one for an output aggregate is made before the needs are gathered
(it decides what the head does), the rest after (see :func:`choose_output`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..lang.nodes import Aggregate, SelectorWidth, SOp
from .combine import is_number
from .plans import Needs, OutputChoice, PlanContext
from .storage import View
from .value_sets import ValueSets
from .views import ONE_HOT_LIMIT, native_view

__all__ = ["choose_output", "scalar_select_fit", "SCALAR_LOGITS_SPREAD"]

SCALAR_LOGITS_SPREAD = 1024.0  # (largest - smallest) / smallest gap: logits stay small


def scalar_select_fit(program: SOp, vs: ValueSets, out_view: View | None) -> bool:
    """An output aggregate that moves numbers can write them as one scalar: a mean
    over the one key it selects (or keys of one value) is that value."""
    if out_view is not None or not isinstance(program, Aggregate):
        return False
    if vs.semantics.get(program.id, "select") != "select" or vs.too_many(program):
        return False
    return _scalar_logits_fit(None, program, vs.union(program))


def choose_output(context: PlanContext, needs: Needs, out_view: View | None) -> OutputChoice:
    """The view of the output to store, given what heads need; ``scalar_logits`` when it
    is one scalar the unembedding turns into logits over the output's values."""
    node, vs = context.program, context.values
    if out_view is not None:
        return OutputChoice(out_view, False)
    if isinstance(node, Aggregate):
        if context.scalar_select:
            return _scalar(context, View.SCALAR)
        return OutputChoice(native_view(context, node), False)
    if vs.too_many(node):
        return OutputChoice(View.SCALAR, False)  # the feature reports the blocker
    values = vs.union(node)
    numeric = all(is_number(v, bools=True) for v in values)
    if (node.encoding.value == "numerical" or len(values) > ONE_HOT_LIMIT) and numeric:
        # a numerical output: the scalar itself, decoded to the nearest value
        return OutputChoice(View.SCALAR, False)
    if isinstance(node, SelectorWidth):  # the head's B / (B + width), no decoding MLP
        b = context.scale_of(node)
        if _scalar_logits_fit(needs, node, values, [b / (b + w) for w in values]):
            return _scalar(context, View.COUNT_WEIGHT)
    if _scalar_logits_fit(needs, node, values):
        return _scalar(context, View.SCALAR)
    return OutputChoice(View.ONE_HOT, False)


def _scalar(context: PlanContext, view: View) -> OutputChoice:
    node = context.program
    note = (
        f"{context.names[node.id]} is stored as one number; the unembedding gives logits "
        f"over its {len(context.values.union(node))} values, and the nearest value wins"
    )
    return OutputChoice(view, True, note)


def _scalar_logits_fit(
    needs: Needs | None, node: SOp, values: list[Any], stored: list[float] | None = None
) -> bool:
    """A one-hot output of distinct numbers, read one-hot by nobody else, is stored as
    one scalar ``x`` (the value, or ``stored[i]`` for ``values[i]``); the unembedding
    turns it into logits ``-(x - x_v)**2`` (up to a constant per position), whose argmax
    is the nearest value. One direction instead of one per value, and a narrower MLP or
    none."""
    read_one_hot = needs is not None and View.ONE_HOT in needs.views.get(node.id, ())
    if read_one_hot or len(values) < 2:
        return False
    if not all(is_number(v) for v in values):  # bools stay one-hot
        return False
    coords = np.unique([float(v) for v in (values if stored is None else stored)])
    if len(coords) < len(values):
        return False  # 1 and 1.0 are two outputs but one scalar
    spread = (coords[-1] - coords[0]) / np.diff(coords).min()
    return bool(spread <= SCALAR_LOGITS_SPREAD)
