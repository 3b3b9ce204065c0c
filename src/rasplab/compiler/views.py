"""Stage 4: the features the planner stores for each view of an s-op, and their writers.

A view of an s-op (:class:`~rasplab.compiler.storage.View`) becomes one
:class:`~rasplab.compiler.features.Feature`: its values (from the value
sets), its directions, and its producer - the embedding (``tokens``,
``indices`` and what is computed from only one of them), an attention head
(its native view: one-hot for moved values, a scalar for means, the raw
weight for counts) or an MLP (everything else). Making a feature may find a
blocker (too many values, an average whose default is not a number); it is
reported with the feature, every round that uses it.

:class:`Pass` is the one mutable record of planning: a pass over the needs
notes every feature it uses, in order of first use, and their blockers.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ..lang.graph import ATTENTION
from ..lang.nodes import Aggregate, Constant, Indices, Length, SelectorWidth, SOp, Tokens
from .combine import is_number
from .features import Feature, number_groups
from .plans import FeatureKey, Needs, PlanContext
from .storage import View

__all__ = [
    "Pass",
    "feature",
    "aggregate_kind",
    "native_view",
    "length_view",
    "ONE_HOT_LIMIT",
]

ONE_HOT_LIMIT = 4096  # most values a one-hot s-op may have


@dataclass
class Pass:
    """One pass over the needs, building heads and MLP jobs.

    ``blocks`` and ``heads_out`` are the layers the pass before found (empty on
    the first); ``used`` collects every feature read or written, first use first
    (the embedding's directions follow that order), ``blockers`` what making them
    reported.
    """

    context: PlanContext
    needs: Needs
    blocks: dict[FeatureKey, int] = field(default_factory=dict)
    heads_out: frozenset[FeatureKey] = frozenset()
    used: dict[FeatureKey, Feature] = field(default_factory=dict)
    blockers: list[str] = field(default_factory=list)


def feature(work: Pass, node: SOp, view: View) -> Feature:
    """The feature of ``node``'s ``view``, noted as used by this pass."""
    key = (node.id, view)
    if key not in work.used:
        made = work.context.made
        if key not in made:  # a feature depends on its node and view only
            made[key] = _make(work.context, node, view)
        found, blockers = made[key]
        work.blockers += blockers  # reported again by every pass that uses it
        work.used[key] = found
    return work.used[key]


def aggregate_kind(context: PlanContext, node: SOp) -> str:
    """What ``node``'s head does: select, mean, count, max or min."""
    if isinstance(node, Aggregate):
        if context.scalar_select and node is context.program:
            return "mean"
        return context.values.semantics.get(node.id, "select")
    return "mean" if isinstance(node, Length) else "count"


def native_view(context: PlanContext, node: SOp) -> View:
    """The view a head writes of its own s-op (every other s-op: one-hot)."""
    if isinstance(node, Aggregate | Length):
        return View.SCALAR if aggregate_kind(context, node) == "mean" else View.ONE_HOT
    if isinstance(node, SelectorWidth):
        return View.COUNT_WEIGHT
    return View.ONE_HOT


def length_view(context: PlanContext) -> View:
    """How ``length``'s head reads the indices: one-hot where the program stores them
    anyway, else as one scalar the position embedding writes (one direction, not n).
    Where a quadratic select stores the indices as a number, the head reads that."""
    terms = [t for fit in context.quadratic.values() for t in fit.terms]
    sides = [s for t in terms for s in (t.keys, t.queries)]
    if any(isinstance(s, Indices) for s in sides):
        return View.SCALAR
    return View.ONE_HOT if any(isinstance(n, Indices) for n in context.order) else View.SCALAR


def producer(context: PlanContext, node: SOp, view: View) -> str:
    if isinstance(node, ATTENTION):
        return "head" if view is native_view(context, node) else "mlp"
    if isinstance(node, Tokens | Indices) or node.id in context.positional | context.lexical:
        return "embed"
    return "mlp"


def _make(context: PlanContext, node: SOp, view: View) -> tuple[Feature, tuple[str, ...]]:
    """A feature and the blockers found making it."""
    key, name, vs = (node.id, view), context.names[node.id], context.values
    if not isinstance(node, Indices) and vs.too_many(node):
        blocker = (
            f"{name} can take too many distinct values at max_seq_len "
            f"{vs.max_seq_len} to compile exactly (an average over many keys, or a "
            "zipmap of large value sets); compile for a smaller max_seq_len or vocabulary"
        )
        return Feature.numerical(key, name, [0], "mlp"), (blocker,)
    values = list(range(vs.max_seq_len)) if isinstance(node, Indices) else vs.union(node)
    if isinstance(node, Constant):
        value: Any = node.value
        if view is View.SQUARE:  # only of integer constants (see quadratic.py)
            value = float(value) * float(value)
        return Feature.constant(key, name, value, view.storage), ()
    averaged = isinstance(node, Aggregate) and aggregate_kind(context, node) == "mean"
    words = [v for v in values if not is_number(v, bools=True)] if averaged else []
    if words:  # the default, where some query selects nothing
        blocker = (
            f"{name} averages numbers, but where nothing is selected it is "
            f"{words[0]!r}, its default (an averaging head writes one number); "
            "give it a numerical default such as 0"
        )
        return Feature.numerical(key, name, [0], "head"), (blocker,)
    made_by = producer(context, node, view)
    if view is View.COUNT_WEIGHT:
        b = context.scale_of(node)
        coords = [b / (b + w) for w in values]
        f = Feature.numerical(key, f"{name}.attn", values, made_by, coords, exact=False)
        return replace(f, coords=tuple(coords)), ()
    if view is View.SQUARE:  # of integers: the embedding or an MLP writes it (quadratic.py)
        squares = [float(v) * float(v) for v in values]
        return Feature.numerical(key, f"{name}^2", values, made_by, squares), ()
    if view is View.ONE_HOT:
        return _one_hot(key, name, values, made_by, averaged)
    return _scalar(node, key, name, values, made_by)


def _one_hot(
    key: FeatureKey, name: str, values: list, made_by: str, averaged: bool
) -> tuple[Feature, tuple[str, ...]]:
    blockers: tuple[str, ...] = ()
    if len(values) > ONE_HOT_LIMIT:
        blockers = (
            f"{name} would need {len(values)} one-hot directions (limit {ONE_HOT_LIMIT}); "
            "compile for a smaller max_seq_len or vocabulary, or make it numerical",
        )
    f = Feature.categorical(key, name, values, made_by)
    if averaged:
        f = f.merged(number_groups(values))  # the model cannot tell 1 from 1.0
    return f, blockers


def _scalar(
    node: SOp, key: FeatureKey, name: str, values: list, made_by: str
) -> tuple[Feature, tuple[str, ...]]:
    blockers: tuple[str, ...] = ()
    if not all(is_number(v, bools=True) for v in values):
        shown = [v for v in values if not is_number(v, bools=True)][:3]
        blockers = (f"{name} is read as a number but can hold {shown!r}; keep it categorical",)
        values = [v for v in values if is_number(v, bools=True)]
    exact = isinstance(node, Aggregate) and isinstance(node.sop, Constant)
    f = Feature.numerical(key, name, values, made_by, exact=exact or made_by != "head")
    return f.merged(number_groups(values)), blockers
