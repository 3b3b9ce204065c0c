"""What the bound argument does between sublayers (:mod:`.bounds`): the weights as
float32 reads them, a sublayer's output added to the stream (and that sum rounded),
and each feature's error at the end.

>>> import numpy as np
>>> unbounded(np.array([True, False])).tolist()
[inf, 0.0]
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

import numpy as np

from ..model.model import CompiledModel
from .bounds_space import Stream
from .features import Feature

__all__ = ["epsilons", "rounded_model", "unbounded", "added"]


def epsilons(stream: Stream) -> dict[str, float]:
    """Each stored feature's error bound at the end: the most any of its directions can be
    off its exact encoding (at the feature's largest value, where it grows with it)."""
    mag = stream.magnitude()
    return {
        f.name: float(max(mag[stream.index[d]] - _largest(f, d) for d in f.directions))
        for f in stream.available
        if f.directions
    }


def _largest(f: Feature, direction: str) -> float:
    return max((abs(w.get(direction, 0.0)) for w in f.writes), default=0.0)


def rounded_model(model: CompiledModel) -> CompiledModel:
    """``model`` with every weight rounded to float32 (as its float32 forward pass reads it)."""

    def cast(a: Any) -> Any:
        return a.astype(np.float32).astype(np.float64) if isinstance(a, np.ndarray) else a

    def each(obj: Any) -> Any:
        return replace(obj, **{f.name: cast(getattr(obj, f.name)) for f in fields(obj)})

    blocks = tuple(replace(b, attn=each(b.attn), mlp=each(b.mlp)) for b in model.blocks)
    return replace(
        model,
        W_E=cast(model.W_E),
        W_pos=cast(model.W_pos),
        W_U=cast(model.W_U),
        b_U=cast(model.b_U),
        blocks=blocks,
    )


def unbounded(writes: np.ndarray) -> np.ndarray:
    """An error with no bound in the directions a sublayer ``writes``, 0 elsewhere."""
    return np.where(writes, np.inf, 0.0)


def added(
    stream: Stream, delta: np.ndarray, bos: np.ndarray, bos_delta: np.ndarray, writes: np.ndarray
) -> Stream:
    """The stream after a sublayer's output is added, and that sum rounded in the
    directions the sublayer ``writes`` (adding an exact 0 rounds nothing: neither does
    adding to a direction nothing wrote before)."""
    # an unbounded error (inf times 0 somewhere) is no bound at all where the sublayer
    # writes; elsewhere it adds an exact 0 (a finite activation times a zero weight)
    delta = np.where(writes, np.nan_to_num(delta, nan=np.inf), stream.delta)
    bos_delta = np.where(writes, np.nan_to_num(bos_delta, nan=np.inf), stream.bos_delta)
    relative = None if stream.relative is None else np.nan_to_num(stream.relative, nan=np.inf)
    filled = None if stream.filled is None else stream.filled | writes
    out = replace(
        stream, delta=delta, bos=bos, bos_delta=bos_delta, relative=relative, filled=filled
    )
    u = stream.rounding.u
    if u:
        sums = writes if stream.filled is None else writes & stream.filled
        out = replace(  # (where, not a product: inf times a 0 would be NaN)
            out,
            delta=out.delta + np.where(sums, u * out.magnitude(), 0.0),
            bos_delta=out.bos_delta + np.where(sums, u * (np.abs(bos) + bos_delta), 0.0),
        )
    return out
