"""Layer numbers for heads and MLPs, as early as their inputs allow.

A head in layer ``b`` reads what the embedding, earlier heads and earlier
MLPs wrote; the MLP of layer ``b`` also reads what layer ``b``'s heads
wrote. Heads with the same attention pattern in one layer become one head
that writes several values (the paper's head count). Layers left without
heads lose their MLPs to the next layer where every reader allows it, so no
layer is spent on an MLP that could run later.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import replace
from typing import Any

from ..analysis import pattern_key
from ..lang.nodes import Length
from .features import Feature
from .plans import FeatureKey, HeadPlan, MlpPlan

__all__ = ["assign_blocks", "merge_heads", "compact"]


def assign_blocks(
    heads: Sequence[HeadPlan], mlps: Sequence[tuple[Feature, Sequence[Feature]]]
) -> dict[FeatureKey, int]:
    """Feature key -> layer of its producer (embedded features are absent)."""
    head_of = {h.output.key: h for h in heads}
    leaves_of = {out.key: leaves for out, leaves in mlps}
    blocks: dict[FeatureKey, int] = {}

    def block(key: FeatureKey) -> int:
        if key not in blocks:
            if key in head_of:
                blocks[key] = max((for_attention(f) for f in reads(head_of[key])), default=0)
            else:
                blocks[key] = max((for_mlp(f) for f in leaves_of[key]), default=0)
        return blocks[key]

    def for_attention(f: Feature) -> int:
        return block(f.key) + 1 if f.key in head_of or f.key in leaves_of else 0

    def for_mlp(f: Feature) -> int:
        if f.key in head_of:
            return block(f.key)
        return block(f.key) + 1 if f.key in leaves_of else 0

    for key in [*head_of, *leaves_of]:
        block(key)
    return blocks


def reads(h: HeadPlan) -> list[Feature]:
    return [*h.inputs.values(), *([h.value] if h.value is not None else [])]


def mlp_ready(
    f: Feature, blocks: Mapping[FeatureKey, int], heads_out: AbstractSet[FeatureKey]
) -> int:
    """The first layer whose MLP can read ``f``."""
    if f.key not in blocks:
        return 0
    return blocks[f.key] if f.key in heads_out else blocks[f.key] + 1


def _head_key(h: HeadPlan) -> Any:
    selector = None if isinstance(h.node, Length) else h.node.selector
    group = h.kind if h.kind in ("count", "max", "min") else "value"
    return (h.block, group, pattern_key(selector))


def merge_heads(heads: Sequence[HeadPlan]) -> list[list[HeadPlan]]:
    """Heads of one layer with one attention pattern (and BOS rule) share a head."""
    groups: dict[Any, list[HeadPlan]] = {}
    for h in heads:
        groups.setdefault(_head_key(h), []).append(h)
    return list(groups.values())


def compact(heads: list[HeadPlan], mlps: list[MlpPlan]) -> tuple[list, list, int]:
    """Drop layers without heads by moving their MLPs later where every reader allows it."""
    n_blocks = 1 + max([h.block for h in heads] + [m.block for m in mlps], default=-1)
    for b in range(n_blocks - 1, -1, -1):
        if any(h.block == b for h in heads):
            continue
        mine = [m for m in mlps if m.block == b]
        if mine and not all(_latest(m, heads, mlps, n_blocks) >= b + 1 for m in mine):
            continue
        mlps = [replace(m, block=b + 1) if m.block == b else m for m in mlps]
        heads = [replace(h, block=h.block - 1) if h.block > b else h for h in heads]
        mlps = [replace(m, block=m.block - 1) if m.block > b else m for m in mlps]
        n_blocks -= 1
    return heads, mlps, n_blocks


def _latest(m: MlpPlan, heads: list[HeadPlan], mlps: list[MlpPlan], n_blocks: int) -> int:
    limit = n_blocks - 1
    for h in heads:
        if any(f.key == m.output.key for f in reads(h)):
            limit = min(limit, h.block - 1)
    for other in mlps:
        if any(f.key == m.output.key for f in other.leaves):
            limit = min(limit, other.block - 1)
    return limit
