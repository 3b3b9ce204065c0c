"""The embedding as the bound argument of :mod:`.bounds` sees it: the stream before block 0.

Every residual direction starts with an error bound ``delta``: how far the
embedding's rows (tokens, positions) are from the exact encodings the layout
plans, and, in float32, the rounding of their sum. The stream also starts
with what is known of the values: each node's value set (all positions, and
position by position), the maps among the nodes, and the counts no two
positions share (:mod:`.ranks`), which tell the heads where a select picks
one key.

>>> from rasplab.library import reverse
>>> from rasplab.compiler.driver import compile_with_blueprint
>>> from rasplab.compiler.rounding import Rounding
>>> model, blueprint = compile_with_blueprint(reverse(), "abc", 8)
>>> layout, values = blueprint.layout, blueprint.values
>>> stream = embedding_stream(model, layout, values, blueprint.origin, Rounding())
>>> [f.name for f in stream.available], float(stream.delta.max())  # an exact embedding
(['indices', 'indices^2', 'tokens'], 0.0)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from ..lang.nodes import Indices, Map, Node, SOp
from ..model.model import CompiledModel
from .assemble import _embedding
from .bounds_space import Refused, Stream, node_values
from .features import Feature
from .plans import Layout
from .ranks import class_ranks_among, ranks_among
from .rounding import Rounding
from .tellers import tellers_among
from .value_sets import ValueSets

__all__ = ["embedding_stream"]


def embedding_stream(
    model: CompiledModel,
    layout: Layout,
    values: ValueSets,
    origin: Mapping[int, Node],
    rounding: Rounding,
) -> Stream:
    """The stream before the first block: the embedding's rows against the exact ones
    (``layout``, ``values`` and ``origin``: what the model was assembled from)."""
    index = {d: i for i, d in enumerate(model.directions)}
    output = layout.nodes.get(layout.output.key[0])
    exact_e, exact_pos = _embedding(
        layout, _program(output), list(model.vocab), model.max_seq_len, index
    )
    err = np.abs(model.W_E[1:] - exact_e[1:]).max(axis=0, initial=0.0)
    err = err + np.abs(model.W_pos[1:] - exact_pos[1:]).max(axis=0, initial=0.0)
    bos = model.W_E[0] + model.W_pos[0]
    embedded = tuple(f for f in layout.features if f.producer == "embed")
    known = node_values([*layout.features, *_plan_features(layout)])
    positions = _positions(layout, values)
    stream = Stream(index, embedded, known, err, bos, 0 * bos, rounding, *positions)
    nodes = layout.nodes
    distinct = ranks_among(nodes, values, origin)
    within = class_ranks_among(nodes, values, origin)
    stream = replace(
        stream,
        maps={nid: n for nid, n in nodes.items() if isinstance(n, Map)},
        distinct=distinct,
        within=within,
        tellers=tellers_among(nodes, values, origin, distinct | frozenset(within)),
    )
    # a sum rounds only where both terms may be non-zero (x + 0 is exact)
    both = np.any(model.W_E != 0, axis=0) & np.any(model.W_pos != 0, axis=0)
    if rounding.u:  # the embedding's sum, rounded
        stream = replace(
            stream,
            delta=stream.delta + rounding.u * stream.magnitude() * both,
            bos_delta=rounding.u * np.abs(bos) * ((model.W_E[0] != 0) & (model.W_pos[0] != 0)),
        )
    return stream


def _positions(layout: Layout, values: ValueSets) -> tuple[int | None, dict[int, tuple]]:
    """The id of ``indices`` (the position) and the value sets per position."""
    found = [n for n, node in layout.nodes.items() if isinstance(node, Indices)]
    return (found[0] if found else None), dict(values.sets)


def _plan_features(layout: Layout) -> list[Feature]:
    """Features the plan reads besides the stored ones (constants own no direction)."""
    found = [f for h in layout.heads for f in (*h.inputs.values(), h.value) if f is not None]
    return found + [f for m in layout.mlps for f in m.leaves]


def _program(output: SOp | None) -> SOp:
    if output is None:
        raise Refused("the plan's output s-op is unknown")
    return output
