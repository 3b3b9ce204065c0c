"""How many parameters a compile will produce, known before any weight is built.

A program whose value sets blow up (a sum over many keys, a minimum of
positions) compiles to a model with millions of parameters that nobody can
use, and building it takes a minute. Two checks refuse such a compile early,
with one :class:`~rasplab.errors.ResourceLimitError` naming the s-op at fault:

* after the value sets (stages 1-3): an s-op that can hold ``V`` values at
  one position needs, wherever it is stored one-hot or read by an MLP, about
  ``V`` directions and ``V`` units - at least ``V * V`` weights;
* after the plan (stage 4), before stage 5 builds the weights: the count
  that the assembled model will have, from the plan's directions, heads and
  MLP units.

>>> from rasplab import tokens, indices, select, aggregate
>>> from rasplab.compiler.value_sets import infer
>>> total = aggregate(select(indices, indices, "<="), tokens, mode="sum")
>>> widest_values(total, infer(total, [0, 1, 2], 8))
('aggregate_...', 17)
>>> check_params(ParamEstimate(7_000_000, "cumsum", "15 values per position", "x"), 5_000_000, 8)
Traceback (most recent call last):
...
rasplab.errors.ResourceLimitError: the model would have about 7,000,000 parameters...
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import CompileError, ResourceLimitError
from ..lang.graph import topological_order
from ..lang.nodes import Aggregate, Node, Select, SOp
from .plans import Layout
from .storage import Storage
from .value_sets import ValueSets

__all__ = [
    "DEFAULT_MAX_PARAMS",
    "ParamEstimate",
    "check_max_params",
    "check_params",
    "early_estimate",
    "layout_estimate",
    "per_direction",
    "too_many_blockers",
    "widest_values",
]

DEFAULT_MAX_PARAMS = 20_000_000  # twice the largest library programs (dyck2/3 at 128: 10 M)
_SETS = "value sets"


@dataclass(frozen=True)
class ParamEstimate:
    """An estimated parameter count, and the part of the program that makes it large."""

    total: int
    culprit: str  # the s-op (or MLP output) that contributes most
    size: str  # its size, in words ("2,927 values per position", "10,649 MLP units")
    when: str  # which check made the estimate


def check_max_params(max_params: Any) -> int | None:
    """``max_params`` as given (None: no limit); CompileError if not a positive int."""
    if max_params is None:
        return None
    if not isinstance(max_params, int) or isinstance(max_params, bool) or max_params < 1:
        raise CompileError(f"max_params must be a positive int (or None), got {max_params!r}")
    return max_params


def widest_values(
    program: Node,
    values: ValueSets,
    origin: Mapping[int, Node] | None = None,
    among: frozenset[int] | None = None,
) -> tuple[str, int] | None:
    """The s-op holding the most values at one position, and that number (an s-op whose
    values could not even be listed counts as infinitely many: None is never returned
    for such a program). ``origin`` names a rewritten s-op by the user's s-op it stands for."""
    origin = origin or {}
    best: tuple[str, int] | None = None
    for node in topological_order(program):
        if not isinstance(node, SOp) or node.id not in values.sets:
            continue
        if among is not None and node.id not in among:
            continue
        label = origin[node.id].label if node.id in origin else node.label
        if values.too_many(node):
            return label, -1
        most = max((len(s) for s in values.sets[node.id]), default=0)
        if best is None or most > best[1]:
            best = (label, most)
    return best


def early_estimate(
    program: Node, values: ValueSets, origin: Mapping[int, Node] | None = None
) -> ParamEstimate | None:
    """At least ``V * V`` parameters for an s-op stored one-hot (a selector's keys or
    queries, the values an aggregate moves) with ``V`` values at one position: ``V``
    directions, and a head reading them needs about ``V`` query/key dimensions."""
    widest = widest_values(program, values, origin, _one_hot(program, values))
    if widest is None:
        return None
    label, most = widest
    if most < 0:
        return None  # not a size: too_many_blockers says why it cannot be compiled
    return ParamEstimate(most * most, label, f"{most:,} values at one position", _SETS)


def _one_hot(program: Node, values: ValueSets) -> frozenset[int]:
    """S-ops every plan stores one-hot: selectors' keys and queries, moved values."""
    ids: set[int] = set()
    for node in topological_order(program):
        if isinstance(node, Select):
            ids |= {node.keys.id, node.queries.id}
        elif isinstance(node, Aggregate) and values.semantics.get(node.id) != "mean":
            ids.add(node.sop.id)
    return frozenset(ids)


def too_many_blockers(
    program: Node, values: ValueSets, origin: Mapping[int, Node], max_seq_len: int
) -> list[str]:
    """A blocker for the first s-op whose values are too many to list: no MLP or head can
    be built for it, so the planner need not try (it would take seconds to find out)."""
    widest = widest_values(program, values, origin)
    if widest is None or widest[1] >= 0:
        return []
    return [
        f"{widest[0]} can take too many distinct values at max_seq_len {max_seq_len} to "
        "compile exactly (an average over many keys, or a zipmap of large value sets); "
        "compile for a smaller max_seq_len or vocabulary"
    ]


def layout_estimate(layout: Layout, vocab_size: int, max_seq_len: int) -> ParamEstimate:
    """The parameters stage 5 will build for ``layout`` (heads' widths estimated)."""
    d_model = 2 + sum(len(f.directions) for f in layout.features)  # BOS, one, features
    total = (vocab_size + 1 + max_seq_len + 1) * d_model  # token and position embeddings
    out = len(layout.output.readouts) if layout.output.kind is Storage.ONE_HOT else 1
    if layout.scalar_logits:
        out = len(layout.output.coords)
    total += (d_model + 1) * out  # unembedding
    for block in range(layout.n_blocks):
        heads = [h for h in layout.heads if h.block == block]
        d_head = max((_head_width(h) for h in heads), default=0)
        total += len(heads) * (4 * d_model * d_head + 3 * d_head) + d_model
        units = sum(len(m.spec.units) for m in layout.mlps if m.block == block) + 1
        total += 2 * d_model * units + units + d_model
    widest = max(layout.features, key=lambda f: len(f.directions), default=None)
    biggest = max(layout.mlps, key=lambda m: len(m.spec.units), default=None)
    if biggest is not None and (widest is None or len(biggest.spec.units) > len(widest.directions)):
        size = f"{len(biggest.spec.units):,} MLP units reading {len(biggest.leaves)} stored s-ops"
        return ParamEstimate(total, biggest.output.name, size, "plan")
    name = widest.name if widest is not None else "the program"
    size = f"{len(widest.directions):,} residual directions" if widest is not None else ""
    return ParamEstimate(total, name, size, "plan")


def per_direction(layout: Layout, vocab_size: int, max_seq_len: int) -> int:
    """Parameters one more residual direction adds to ``layout``'s estimate: a column of
    both embeddings and a row of the unembedding, and in every block a row of each head's
    four matrices, of the MLP's two and of the layer's biases."""
    out = len(layout.output.readouts) if layout.output.kind is Storage.ONE_HOT else 1
    if layout.scalar_logits:
        out = len(layout.output.coords)
    total = vocab_size + 1 + max_seq_len + 1 + out
    for block in range(layout.n_blocks):
        heads = [h for h in layout.heads if h.block == block]
        d_head = max((_head_width(h) for h in heads), default=0)
        units = sum(len(m.spec.units) for m in layout.mlps if m.block == block) + 1
        total += len(heads) * 4 * d_head + 2 * units + 2
    return total


def _head_width(head: Any) -> int:
    """Query/key width: the score matrix's rank is at most the smaller side's one-hot
    directions; plus one for BOS."""
    sides: dict[Any, int] = {}
    for (side, _), f in head.inputs.items():
        sides[side] = sides.get(side, 0) + len(f.directions)
    qk = 1 + min(sides.values(), default=0)
    value = len(head.value.directions) if head.value is not None else 1
    return max(qk, value)


def check_params(estimate: ParamEstimate | None, max_params: int | None, max_seq_len: int):
    """ResourceLimitError, one message naming the s-op, when the estimate passes the limit."""
    if estimate is None or max_params is None or 0 <= estimate.total <= max_params:
        return None
    about = f"about {estimate.total:,}" if estimate.total >= 0 else "too many"
    raise ResourceLimitError(
        f"the model would have {about} parameters (estimated from the "
        f"{estimate.when}), more than max_params={max_params:,}: {estimate.culprit} takes "
        f"{estimate.size} at max_seq_len {max_seq_len}. To shrink it: compile for a smaller "
        "max_seq_len, or give that s-op fewer values (round or clip the numbers, sum fewer "
        "distinct integers, mark an average numerical so it is stored as one number); or "
        "raise the limit with max_params= (None: no limit; on the command line, "
        "--max-params N)"
    )
