"""The plain data of a layer plan: heads, MLPs and the features they write."""

from __future__ import annotations

from dataclasses import dataclass

from ..lang.nodes import SOp
from .features import Feature
from .mlp import MLPSpec
from .selectors import Score

__all__ = ["HeadPlan", "MlpPlan", "Layout"]


@dataclass(frozen=True, eq=False)
class HeadPlan:
    node: SOp
    kind: str  # select | mean | count
    score: Score
    inputs: dict[tuple, Feature]  # (side, node id) -> categorical feature
    value: Feature | None
    output: Feature
    block: int = -1
    value_coords: tuple[float, ...] | None = None  # mean: the number each value stands for
    count_scale: float | None = None  # count: B, the head stores B / (B + width)


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
    scalar_logits: bool = False  # a categorical output stored as one scalar (see assemble)
