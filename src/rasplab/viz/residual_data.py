"""The numbers behind the residual-stream heatmaps: stages, direction groups, colours.

``residual_stages`` runs a compiled model on one input and returns the
residual stream after the embedding and after every attention and MLP
sublayer; the helpers turn directions into s-op groups and values into
fills and short labels.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..model.model import MLP, Attention, Block, CompiledModel

__all__ = [
    "Stage",
    "residual_stages",
    "group_of",
    "direction_groups",
    "value_text",
    "value_fill",
    "TOLERANCE",
    "ZERO",
]

TOLERANCE = 1e-6  # smaller magnitudes count as zero (the float noise of exact weights)
ZERO = "#ffffff"
POS_LIGHT, POS_DARK = (222, 235, 247), (33, 102, 172)  # blue for positive values
NEG_LIGHT, NEG_DARK = (253, 219, 199), (178, 24, 43)  # red for negative ones


# ------------------------------------------------------------------ the numbers


@dataclass(frozen=True)
class Stage:
    """The residual stream ``values[position, direction]`` after one step of the model.

    ``kind`` is ``embed``, ``attn`` or ``mlp``; ``block`` is the weights' block
    index (``-1`` for the embedding); ``heads`` names what an attention
    sublayer's heads compute.
    """

    kind: str
    block: int
    values: np.ndarray
    heads: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        if self.kind == "embed":
            return "embedding"
        return f"layer {self.block + 1} · {'attention' if self.kind == 'attn' else 'MLP'}"


def _no_attention(d: int) -> Attention:
    z = np.zeros
    empty = z((0, d, 0))
    return Attention(empty, empty, empty, z((0, 0, d)), z((0, 0)), z((0, 0)), z((0, 0)), z(d))


def _no_mlp(d: int) -> MLP:
    return MLP(np.zeros((d, 0)), np.zeros(0), np.zeros((0, d)), np.zeros(d))


def _halves(model: CompiledModel) -> CompiledModel:
    """The same model with every block split in two: its attention, then its MLP."""
    attn_only, mlp_only = _no_attention(model.d_model), _no_mlp(model.d_model)
    blocks = []
    for block in model.blocks:
        blocks += [Block(block.attn, mlp_only), Block(attn_only, block.mlp)]
    return dataclasses.replace(model, blocks=tuple(blocks))


def residual_stages(model: CompiledModel, input: Any) -> tuple[list[Stage], list[Any]]:
    """Every stage of the residual stream on ``input`` (float64), and the decoded output.

    The stages come from the model's own forward pass, run on a copy whose
    blocks are split into their attention and MLP halves, so the stream
    between the two halves is recorded too.
    """
    halves = _halves(model)
    cache: dict[str, np.ndarray] = {}
    logits = halves.forward(model.encode(input)[None], np.float64, cache)
    stream = [cache[f"resid_pre.{i}"][0] for i in range(len(halves.blocks))]
    stream.append(cache["resid_final"][0])
    stages = [Stage("embed", -1, stream[0])]
    for i, block in enumerate(model.blocks):
        if block.attn.n_heads:
            stages.append(Stage("attn", i, stream[2 * i + 1], tuple(block.attn.names)))
        if block.mlp.d_mlp:
            stages.append(Stage("mlp", i, stream[2 * i + 2]))
    return stages, model.decode(logits)[0]


def group_of(direction: str) -> str:
    """The s-op a direction belongs to: the name before its first ``:``.

    >>> group_of("tokens:a"), group_of("length"), group_of("sort::")
    ('tokens', 'length', 'sort')
    """
    return direction.split(":", 1)[0]


def direction_groups(directions: tuple[str, ...], keep: list[int]) -> list[tuple[str, list[int]]]:
    """The kept direction indices in groups by s-op, groups in order of first appearance.

    >>> direction_groups(("bos", "one", "x:1", "y", "x:2"), [0, 2, 3, 4])
    [('bos', [0]), ('x', [2, 4]), ('y', [3])]
    """
    groups: dict[str, list[int]] = {}
    for i in keep:
        groups.setdefault(group_of(directions[i]), []).append(i)
    return list(groups.items())


def value_text(value: float) -> str:
    """A value short enough for a cell: whole numbers plain, others with two decimals.

    >>> [value_text(v) for v in (1.0, -2.0000001, 1 / 3, -0.5, 0.004, 12.25)]
    ['1', '-2', '.33', '-.5', '4e-03', '12.2']
    """
    if abs(value - round(value)) < 0.005 and abs(value) >= 0.5:
        return str(int(round(value)))
    if abs(value) < 0.005:
        return f"{value:.0e}"
    text = f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}".rstrip("0")
    return text.replace("0.", ".", 1) if abs(value) < 1 else text


def _blend(light: tuple[int, ...], dark: tuple[int, ...], t: float) -> str:
    r, g, b = (round(lo + (hi - lo) * t) for lo, hi in zip(light, dark, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def value_fill(value: float, scale: float, tol: float = TOLERANCE) -> str:
    """A cell's colour: white at zero, blue above it, red below, deepest at ``±scale``.

    >>> value_fill(0.0, 1), value_fill(1.0, 1), value_fill(-1.0, 1), value_fill(0.5, 2)
    ('#ffffff', '#2166ac', '#b2182b', '#afcae4')
    """
    if abs(value) < tol:
        return ZERO
    t = min(1.0, abs(value) / scale)
    return _blend(POS_LIGHT, POS_DARK, t) if value > 0 else _blend(NEG_LIGHT, NEG_DARK, t)


def _scale(values: np.ndarray, tol: float) -> float:
    """Where colours are deepest: the median non-zero magnitude (1 in a one-hot stream).

    Larger values get the deepest colour too; their cells print the number.

    >>> _scale(np.array([0, 1, 1, -1, 8, 1e-9]), 1e-6)
    1.0
    """
    mags = np.abs(values[np.abs(values) >= tol])
    return float(np.median(mags)) if mags.size else 1.0


# ------------------------------------------------------------------ the layout
