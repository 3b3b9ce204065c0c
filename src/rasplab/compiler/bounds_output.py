"""The last step of :mod:`.bounds`: every decoded output keeps its margin.

For every value the output s-op can hold (with whatever else the
unembedding reads), the logits at the exact residual come from the weights;
the residual's error ``delta`` (and, for float32, the product's rounding)
moves the difference of logits j and k by at most ``delta . |W_U[:, j] -
W_U[:, k]|`` (plus each logit's rounding). A categorical output keeps its
value while the correct logit stays above every other value's by more than
that; a numerical one while the scalar, moved by its error, stays between the
midpoints to its neighbouring values.
"""

from __future__ import annotations

import itertools

import numpy as np

from ..model.model import CompiledModel
from .bounds_space import Refused, Stream, read_nodes, space
from .decoding import equal_classes
from .domains import value_indices
from .plans import Layout

__all__ = ["output_margin"]


def output_margin(stream: Stream, model: CompiledModel, layout: Layout, limit: int) -> float | None:
    """The smallest margin the bounds keep over every output value (None: nothing competes)."""
    out = layout.output
    node = out.key[0]
    sp = space(stream, [*sorted(read_nodes(stream, model.W_U)), node], limit, "the unembedding")
    logits = sp.x @ model.W_U + model.b_U
    error = stream.error(sp.x)  # [combos, d_model]
    mag = np.abs(sp.x) + error
    g = stream.rounding.columns(model.W_U)
    rounded = g * (mag @ np.abs(model.W_U) + np.abs(model.b_U))  # [combos, d_out]
    found = value_indices(out, sp.node_values(node))
    if np.any(found < 0):
        raise Refused(f"the unembedding: a value of {out.name} has no encoding")
    classes = equal_classes(model.output.values)
    if len(classes) < 2:
        return None
    if model.output.kind == "categorical":
        correct = _columns(model, layout, found)
        apart = _apart(stream.delta, model.W_U, correct)  # [combos, d_out]
        apart = apart + _apart_relative(error - stream.delta, model.W_U, correct)
        return _categorical(logits, apart, rounded, correct, classes)
    coords = np.asarray(out.coords, dtype=np.float64)[found]
    err = rounded[:, 0] + error @ np.abs(model.W_U[:, 0])
    return _numerical(model, logits[:, 0], err, coords, classes)


def _apart(delta: np.ndarray, w_u: np.ndarray, correct: np.ndarray) -> np.ndarray:
    """``[combo, k]``: how far the residual's error can move logit j - logit k, j each
    combination's correct logit (one row per distinct j: memory stays d_model * d_out)."""
    rows = {j: delta @ np.abs(w_u[:, j, None] - w_u) for j in np.unique(correct).tolist()}
    return np.stack([rows[j] for j in correct.tolist()]) if len(correct) else np.zeros((0, 0))


def _columns(model: CompiledModel, layout: Layout, found: np.ndarray) -> np.ndarray:
    """The logit column of each combination's correct value."""
    if len(model.output.values) != len(layout.output.values):
        raise Refused("the unembedding: its columns are not the output feature's values")
    return found


def _apart_relative(extra: np.ndarray, w_u: np.ndarray, correct: np.ndarray) -> np.ndarray:
    """``[combo, k]``: how far each combination's own error beyond ``delta`` (in the few
    directions whose error grows with the value) moves its correct logit minus logit k."""
    out = np.zeros((len(extra), w_u.shape[1]))
    for d in np.flatnonzero(np.abs(extra).max(axis=0, initial=0.0) > 0).tolist():
        out += extra[:, d, None] * np.abs(w_u[d, correct][:, None] - w_u[d][None, :])
    return out


def _categorical(
    logits: np.ndarray,
    apart: np.ndarray,
    rounded: np.ndarray,
    correct: np.ndarray,
    classes: list[list[int]],
) -> float:
    """The smallest ``logit[correct] - logit[rival]`` less what errors can take from it."""
    class_of = np.empty(logits.shape[1], dtype=np.int64)
    for c, members in enumerate(classes):
        class_of[members] = c
    rows = np.arange(len(logits))
    lead = logits[rows, correct][:, None] - logits  # [combos, d_out]
    lead = lead - apart - rounded[rows, correct][:, None] - rounded
    rivals = class_of[None, :] != class_of[correct][:, None]
    return float(np.where(rivals, lead, np.inf).min())


def _numerical(
    model: CompiledModel,
    x: np.ndarray,
    err: np.ndarray,
    coords: np.ndarray,
    classes: list[list[int]],
) -> float:
    centres = np.asarray(model.output.coords, dtype=np.float64)
    bounds = np.array(
        [(centres[a[-1]] + centres[b[0]]) / 2 for a, b in itertools.pairwise(classes)]
    )
    edges = np.concatenate([[-np.inf], bounds, [np.inf]])
    # the class whose interval holds each correct coordinate
    at = np.searchsorted(bounds, coords, side="right")
    lower, upper = edges[at], edges[at + 1]
    return float(np.minimum(x - err - lower, upper - x - err).min())
