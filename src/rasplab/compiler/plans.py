"""The plain data of stage 4, the layer plan: what planning reads, needs, builds and reports.

* :class:`PlanContext` - what planning reads and never changes (the program,
  its value sets, names, which s-ops the embedding can write);
* :class:`Needs` - which views of which s-ops are stored; it grows from round
  to round (each round gets a new record) with the notes that explain why;
* :class:`OutputChoice` - how the program's output is stored;
* :class:`Round` - what one round built: heads, MLP jobs, the features they use,
  and the blockers their making reported; :class:`Failure` - an MLP job no
  exact construction computes;
* :class:`HeadPlan`, :class:`MlpPlan` and :class:`Layout` - the finished plan.

All are frozen. ``PlanContext`` memoises two pure functions of its fields
(a feature per view, an MLP per job), since every round asks for them again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..lang.nodes import Aggregate, Length, SelectorWidth, SOp
from .features import Feature
from .quadratic import QuadraticFit
from .selectors import Score
from .storage import View
from .units import MLPSpec
from .value_sets import ValueSets

__all__ = [
    "HeadPlan",
    "MlpPlan",
    "Layout",
    "FeatureKey",
    "HeadNode",
    "MlpJob",
    "PlanContext",
    "Needs",
    "OutputChoice",
    "Round",
    "Failure",
]

FeatureKey = tuple[int, View]  # (node id, view)
HeadNode = Aggregate | SelectorWidth | Length  # what a head computes (lang.graph.ATTENTION)
MlpJob = tuple[Feature, tuple[Feature, ...]]  # (what an MLP writes, what it reads)


@dataclass(frozen=True, eq=False)
class HeadPlan:
    node: HeadNode
    kind: str  # select | mean | count | max | min
    score: Score
    inputs: dict[tuple, Feature]  # (side, node id) -> one-hot feature
    value: Feature | None
    output: Feature
    block: int = -1
    value_coords: tuple[float, ...] | None = None  # mean: the number each value stands for
    count_scale: float | None = None  # count: B, the head stores B / (B + width)
    quadratic: QuadraticFit | None = None  # equalities compared as numbers (quadratic.py)


@dataclass(frozen=True, eq=False)
class MlpPlan:
    output: Feature
    leaves: tuple[Feature, ...]
    spec: MLPSpec
    block: int = -1


@dataclass(frozen=True, eq=False)
class Layout:
    features: tuple[Feature, ...]  # every stored feature, embedding first
    heads: tuple[HeadPlan, ...]
    mlps: tuple[MlpPlan, ...]
    n_blocks: int
    output: Feature
    count_scale: float  # B: a count head stores B / (B + width)
    notes: tuple[str, ...]
    nodes: dict[int, SOp]  # node id -> s-op, for every feature's node
    scalar_logits: bool = False  # a one-hot output stored as one scalar (see assemble)


@dataclass(frozen=True, eq=False)
class PlanContext:
    """What planning reads and never changes."""

    program: SOp
    values: ValueSets
    count_scale: float  # B, for counts without a scale of their own
    count_scales: dict[int, float]  # count node id -> its B
    order: tuple[SOp, ...]  # the program's s-ops, inputs first
    nodes: dict[int, SOp]  # node id -> s-op, for every s-op a feature may name
    names: dict[int, str]  # node id -> a unique direction name
    positional: frozenset[int]  # s-ops of indices only: the position embedding writes them
    lexical: frozenset[int]  # s-ops of tokens only: the token embedding writes them
    indices: SOp | None  # the indices that length's head averages (None: no length)
    scalar_select: bool  # the output aggregate moves numbers, stored as one scalar
    quadratic: dict[int, QuadraticFit] = field(
        default_factory=dict
    )  # head id -> how it compares equalities of integers as numbers
    causal: bool = False  # heads run under a causal mask, which tests k <= q by itself
    decode_counts: bool = False  # counts an MLP combines are decoded to numbers first
    input_errors: Mapping[str, tuple[float, float]] | None = None  # ramps leave room for these
    made: dict[FeatureKey, tuple[Feature, tuple[str, ...]]] = field(
        default_factory=dict, repr=False
    )  # memo: a feature per view, with the blockers its making reported
    synthesized: dict[tuple, Any] = field(default_factory=dict, repr=False)  # memo: MLP per job

    def scale_of(self, node: SOp) -> float:
        """B of a count head: its own where lowering chose one, else the default, or where
        each count is decoded on its own, :func:`count_scale` of its widest width (an
        MLP reading two counts' weights at once finds one line through both only while
        they share ``B``)."""
        if node.id in self.count_scales:
            return self.count_scales[node.id]
        if not self.decode_counts:
            return self.count_scale
        widths = [w for w in self.values.union(node) if isinstance(w, int)]
        return count_scale(max(widths, default=0), self.count_scale)


def count_scale(widest: int, default: float) -> float:
    """B for a count of at most ``widest`` keys: the default (``max_seq_len``), or a
    quarter of ``widest`` where that is at most a sixteenth of the default.

    A count head's weight ``B / (B + w)`` carries float32 rounding in proportion to
    itself, which moves the decoded count by ``(B + w)`` times that share. A count of
    a few keys among many positions (a low digit's part, say) with ``B = max_seq_len``
    would carry the rounding of a count of them all.

    >>> count_scale(1024, 1024.0), count_scale(32, 1024.0), count_scale(0, 1024.0)
    (1024.0, 8.0, 1.0)
    """
    if widest * SCALE_SHARE * SCALE_SHARE > default:
        return default
    return max(1.0, widest / SCALE_SHARE)


SCALE_SHARE = 4  # a small count's B is its widest width over this


@dataclass(frozen=True)
class Needs:
    """Which views of which s-ops are stored, and why; replaced, never changed in place."""

    views: dict[int, frozenset[View]]  # node id -> the views stored
    one_hot_reads: frozenset[int] = frozenset()  # attention outputs MLPs read one-hot
    via: dict[FeatureKey, FeatureKey] = field(default_factory=dict)  # one-hot <- stored scalar
    read_whole: frozenset[int] = frozenset()  # stored s-ops MLPs never look through
    notes: tuple[str, ...] = ()

    def with_view(self, node_id: int, view: View) -> Needs:
        views = {**self.views, node_id: self.views.get(node_id, frozenset()) | {view}}
        return replace(self, views=views)

    def with_note(self, note: str) -> Needs:
        return replace(self, notes=(*self.notes, note))


@dataclass(frozen=True)
class OutputChoice:
    view: View  # which view of the program is the model's output
    scalar_logits: bool  # a one-hot output stored as one scalar the unembedding decodes
    note: str | None = None


@dataclass(frozen=True, eq=False)
class Round:
    heads: tuple[HeadPlan, ...]
    mlps: tuple[MlpJob, ...]
    features: dict[FeatureKey, Feature]  # every feature used, in order of first use
    blockers: tuple[str, ...]  # what making them reported (with repeats)


@dataclass(frozen=True, eq=False)
class Failure:
    output: Feature
    leaves: tuple[Feature, ...]
    too_many: bool  # the MLP's domain is too large to build, rather than no construction fits
