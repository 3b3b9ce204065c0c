"""The paper's layer/head analysis: how deep and how wide a transformer must be.

Every aggregate and selector_width needs an attention layer above everything
it reads; elementwise maps are free (the MLP of the layer that made their
inputs, or the embedding at depth 0). ``length`` is one select-all head, as
in the paper. The heads of a layer are its distinct attention patterns: a
selector reused by several aggregates in one layer counts once, and two
``select`` calls with the same keys, queries and predicate are one pattern.

>>> from rasplab import tokens, indices, length, select, aggregate
>>> flip = select(indices, length - indices - 1, "==")
>>> a = analyse(aggregate(flip, tokens))
>>> a.n_layers, a.heads_per_layer
(2, (1, 1))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import RaspTypeError
from .lang.graph import ATTENTION, topological_order
from .lang.nodes import (
    Aggregate,
    Comparison,
    Length,
    Node,
    Select,
    Selector,
    SelectorAnd,
    SelectorNot,
    SelectorOr,
    SelectorWidth,
    SOp,
)

__all__ = ["analyse", "Analysis", "Layer", "Head"]


@dataclass(frozen=True)
class Head:
    """One attention pattern in one layer and the s-ops it produces."""

    layer: int
    selector: Selector | None  # None: the implicit select-all head of ``length``
    sops: tuple[SOp, ...]

    @property
    def label(self) -> str:
        return self.selector.label if self.selector is not None else "select_all"


@dataclass(frozen=True)
class Layer:
    """Attention heads, then the elementwise work (MLP) that follows them."""

    index: int  # 1-based, as in the paper
    heads: tuple[Head, ...]
    mlp: tuple[SOp, ...]


@dataclass(frozen=True)
class Analysis:
    program: Node
    depth: dict[int, int]  # node id -> depth (for selectors: the depth their inputs are ready)
    embedding: tuple[SOp, ...]  # depth-0 s-ops: tokens, indices, constants and maps of them
    layers: tuple[Layer, ...]

    @property
    def n_layers(self) -> int:
        return len(self.layers)

    @property
    def heads_per_layer(self) -> tuple[int, ...]:
        return tuple(len(layer.heads) for layer in self.layers)

    @property
    def n_heads(self) -> int:
        return sum(self.heads_per_layer)

    def depth_of(self, node: Node) -> int:
        return self.depth[node.id]

    def layer_of(self, node: Node) -> int:
        """0 for the embedding, else the 1-based layer that computes ``node``."""
        return self.depth[node.id]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "program": self.program.label,
            "n_layers": self.n_layers,
            "heads_per_layer": list(self.heads_per_layer),
            "embedding": [s.label for s in self.embedding],
            "layers": [
                {
                    "layer": layer.index,
                    "heads": [
                        {"selector": h.label, "sops": [s.label for s in h.sops]}
                        for h in layer.heads
                    ],
                    "mlp": [s.label for s in layer.mlp],
                }
                for layer in self.layers
            ],
        }

    def _repr_html_(self) -> str:
        from .viz.jupyter import analysis_html

        return analysis_html(self)

    def __str__(self) -> str:
        lines = [
            f"{self.program.label}: {self.n_layers} layers, "
            f"heads per layer {list(self.heads_per_layer)}"
        ]
        if self.embedding:
            lines.append("  embedding: " + ", ".join(s.label for s in self.embedding))
        for layer in self.layers:
            lines.append(f"  layer {layer.index}:")
            for h in layer.heads:
                made = ", ".join(s.label for s in h.sops)
                lines.append(f"    head {h.label}: {made}")
            if layer.mlp:
                lines.append("    mlp: " + ", ".join(s.label for s in layer.mlp))
        return "\n".join(lines)


def pattern_key(selector: Selector | None) -> tuple:
    """Structural identity of an attention pattern (what the head computes)."""
    if selector is None:
        return ("all",)
    if isinstance(selector, Select):
        if selector.predicate is Comparison.TRUE:
            return ("all",)
        if selector.predicate is Comparison.FALSE:
            return ("none",)
        return ("select", selector.keys.id, selector.queries.id, selector.predicate)
    if isinstance(selector, SelectorAnd | SelectorOr):
        return (selector.kind, pattern_key(selector.fst), pattern_key(selector.snd))
    if isinstance(selector, SelectorNot):
        return ("not", pattern_key(selector.inner))
    raise RaspTypeError(f"unknown selector type {type(selector).__name__}")


def _depth(node: Node, depth: dict[int, int]) -> int:
    if isinstance(node, Length):
        return 1
    below = max((depth[c.id] for c in node.children), default=0)
    return below + 1 if isinstance(node, Aggregate | SelectorWidth) else below


def analyse(program: Node) -> Analysis:
    """Schedule every s-op as early as possible; report layers and heads."""
    if not isinstance(program, Node):
        raise RaspTypeError(f"analyse needs an s-op or a selector, got {program!r}")
    order = topological_order(program)
    depth: dict[int, int] = {}
    for node in order:
        depth[node.id] = _depth(node, depth)
    sops = [n for n in order if isinstance(n, SOp)]
    n_layers = max((depth[s.id] for s in sops), default=0)
    layers = []
    for index in range(1, n_layers + 1):
        heads: dict[tuple, list] = {}
        for s in sops:
            if depth[s.id] == index and isinstance(s, ATTENTION):
                selector = None if isinstance(s, Length) else s.selector
                heads.setdefault(pattern_key(selector), [selector, []])[1].append(s)
        mlp = tuple(s for s in sops if depth[s.id] == index and not isinstance(s, ATTENTION))
        layer_heads = tuple(Head(index, sel, tuple(made)) for sel, made in heads.values())
        layers.append(Layer(index, layer_heads, mlp))
    embedding = tuple(s for s in sops if depth[s.id] == 0)
    return Analysis(program, depth, embedding, tuple(layers))
