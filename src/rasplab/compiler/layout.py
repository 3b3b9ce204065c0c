"""Stage 4: which s-ops live in the residual stream, who writes them, and in which layer.

Heads write aggregates and counts; the embedding writes ``tokens``,
``indices`` and anything computed from only one of them; MLPs write the
rest. An s-op is stored only when an attention head reads it (as key, query
or value) or it is the output; every other map or zipmap is *fused* into the
MLP that needs it, so consecutive elementwise steps cost one MLP.

Each producer goes in the earliest layer its inputs allow (the schedule of
:mod:`rasplab.analysis`): a head after whatever it reads, an MLP in the
layer of its latest leaf. When no single MLP can compute an s-op exactly
(two fresh counts combined non-additively), the planner stores an
intermediate first - the s-op's scalar, or its leaves one-hot - and tries
again a layer later; each such step is recorded in ``Layout.notes``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..errors import CompileError
from ..lang.graph import ATTENTION, topological_order
from ..lang.nodes import Aggregate, Constant, Indices, Length, Node, SelectorWidth, SOp, Tokens
from .domains import domain, value_indices
from .features import Feature, number_groups
from .fusion import CAT_LIMIT, Fusion, cannot
from .mlp import MLPSpec, Target, synthesize
from .outputs import OutputViews
from .plans import HeadPlan, Layout, MlpPlan
from .positional import primitives_below
from .schedule import assign_blocks, compact
from .selectors import Score, construct, exclusive, formula, variables
from .value_sets import ValueSets, is_number

__all__ = ["plan", "CAT_LIMIT"]

ROUNDS = 8


def _names(program: Node) -> dict[int, str]:
    names: dict[int, str] = {}
    used: set[str] = {"one", "bos"}
    for node in topological_order(program):
        base = node.label
        name, k = base, 1
        while name in used:
            k += 1
            name = f"{base}#{k}"
        used.add(name)
        names[node.id] = name
    return names


@dataclass
class _State:
    required: dict[int, set[str]] = field(default_factory=dict)
    prefer_cat: set[int] = field(default_factory=set)
    via: dict[tuple, tuple] = field(default_factory=dict)  # feature key -> source feature key


class _Planner(Fusion, OutputViews):
    def __init__(
        self,
        program: SOp,
        vs: ValueSets,
        count_scale: float,
        out_view: str | None,
        count_scales: dict[int, float],
    ):
        self.program, self.vs, self.scale = program, vs, count_scale
        self.count_scales = count_scales
        self.order = [n for n in topological_order(program) if isinstance(n, SOp)]
        self.nodes = {n.id: n for n in topological_order(program)}
        self.names = _names(program)
        self.state = _State()
        self.notes: list[str] = []
        self.blockers: list[str] = []
        self.synth_cache: dict[tuple, Any] = {}
        self.features: dict[tuple, Feature] = {}
        self.made: dict[tuple, tuple[Feature, list[str]]] = {}  # across rounds
        self.out_view = out_view
        self.scalar_logits = False  # see scalar_logits_fit
        self.scalar_select = False  # see scalar_select_fit
        self.blocks: dict[tuple, int] = {}
        self.heads_out: set[tuple] = set()
        below = primitives_below(program, ATTENTION)
        self.positional = {n.id for n in self.order if below[n.id] <= {Indices}}
        self.lexical = {n.id for n in self.order if below[n.id] <= {Tokens}}

    # ------------------------------------------------------------ requirements

    def need(self, node: SOp, view: str) -> None:
        self.state.required.setdefault(node.id, set()).add(view)

    def collect(self) -> None:
        self.scalar_select = self.scalar_select_fit()
        mean_values = []
        for node in self.order:
            if not isinstance(node, ATTENTION):
                continue
            self.need(node, self.native(node))
            if isinstance(node, Length):
                continue
            for _, n in variables(formula(node.selector)).items():
                self.need(n, "cat")
            if isinstance(node, Aggregate):
                if self.kind(node) == "mean":
                    mean_values.append(node.sop)
                else:
                    self.need(node.sop, "cat")
        for sop in mean_values:
            if "cat" not in self.state.required.get(sop.id, ()):
                self.need(sop, "num")
        self.out_view = self.output_view()  # decided once: it looks at the needs above
        self.need(self.program, self.out_view)

    def kind(self, node: SOp) -> str:
        if isinstance(node, Aggregate):
            if self.scalar_select and node is self.program:
                return "mean"
            mode = self.vs.semantics.get(node.id, "select")
            return "mean" if mode == "mean" else mode
        return "mean" if isinstance(node, Length) else "count"

    def native(self, node: SOp) -> str:
        if isinstance(node, Aggregate | Length):
            return "num" if self.kind(node) == "mean" else "cat"
        if isinstance(node, SelectorWidth):
            return "x"
        return "cat"

    def indices_node(self) -> SOp:
        found = [n for n in self.order if isinstance(n, Indices)]
        if found:
            return found[0]
        if not hasattr(self, "_indices"):
            self._indices = Indices()
            self.nodes[self._indices.id] = self._indices
            self.names[self._indices.id] = "indices"
        return self._indices

    def length_view(self) -> str:
        """How ``length``'s head reads the indices: one-hot where the program stores them
        anyway, else as one scalar the position embedding writes (one direction, not n)."""
        return "cat" if any(isinstance(n, Indices) for n in self.order) else "num"

    # ------------------------------------------------------------ features

    def feature(self, node: SOp, view: str) -> Feature:
        key = (node.id, view)
        if key not in self.features:
            if key in self.made:  # a feature depends on its node and view only
                feature, blockers = self.made[key]
                self.blockers += blockers  # reported again, as making it anew would
            else:
                before = len(self.blockers)
                feature = self.make_feature(node, view)
                self.made[key] = (feature, self.blockers[before:])
            self.features[key] = feature
        return self.features[key]

    def make_feature(self, node: SOp, view: str) -> Feature:
        key, name = (node.id, view), self.names[node.id]
        if not isinstance(node, Indices) and self.vs.too_many(node):
            self.blockers.append(
                f"{name} can take too many distinct values at max_seq_len "
                f"{self.vs.max_seq_len} to compile exactly (an average over many keys, or a "
                "zipmap of large value sets); compile for a smaller max_seq_len or vocabulary"
            )
            return Feature.numerical(key, name, [0], "mlp")
        if isinstance(node, Indices):
            values = list(range(self.vs.max_seq_len))
        else:
            values = self.vs.union(node)
        if isinstance(node, Constant):
            return Feature.constant(key, name, node.value, view)
        if isinstance(node, Aggregate) and self.kind(node) == "mean":
            words = [v for v in values if not is_number(v, bools=True)]
            if words:  # the default, where some query selects nothing
                self.blockers.append(
                    f"{name} averages numbers, but where nothing is selected it is "
                    f"{words[0]!r}, its default (an averaging head writes one number); "
                    "give it a numerical default such as 0"
                )
                return Feature.numerical(key, name, [0], "head")
        producer = self.producer(node, view)
        if view == "x":
            b = self.count_scales.get(node.id, self.scale)
            coords = [b / (b + w) for w in values]
            f = Feature.numerical(key, f"{name}.attn", values, producer, coords, exact=False)
            return replace(f, coords=tuple(coords))
        if view == "cat":
            if len(values) > CAT_LIMIT:
                self.blockers.append(
                    f"{name} would need {len(values)} one-hot directions (limit {CAT_LIMIT}); "
                    "compile for a smaller max_seq_len or vocabulary, or make it numerical"
                )
            f = Feature.categorical(key, name, values, producer)
            if isinstance(node, Aggregate) and self.kind(node) == "mean":
                f = f.merged(number_groups(values))  # the model cannot tell 1 from 1.0
            return f
        if not all(is_number(v, bools=True) for v in values):
            shown = [v for v in values if not is_number(v, bools=True)][:3]
            self.blockers.append(
                f"{name} is read as a number but can hold {shown!r}; keep it categorical"
            )
            values = [v for v in values if is_number(v, bools=True)]
        exact = isinstance(node, Aggregate) and isinstance(node.sop, Constant)
        f = Feature.numerical(key, name, values, producer, exact=exact or producer != "head")
        return f.merged(number_groups(values))

    def producer(self, node: SOp, view: str) -> str:
        if isinstance(node, ATTENTION):
            return "head" if view == self.native(node) else "mlp"
        if isinstance(node, Tokens | Indices) or node.id in self.positional | self.lexical:
            return "embed"
        return "mlp"

    def leaf_feature(self, node: SOp) -> Feature:
        """Which stored view of ``node`` an MLP reads."""
        views = self.state.required.get(node.id, set())
        if isinstance(node, Tokens | Indices):
            return self.feature(node, "cat")
        if isinstance(node, ATTENTION) and node.id not in self.state.prefer_cat:
            return self.feature(node, self.native(node))
        return self.feature(node, "cat" if "cat" in views else "num")

    def stored(self, node: SOp) -> bool:
        return (
            isinstance(node, (*ATTENTION, Tokens, Indices)) or node.id in self.state.required
        ) and not isinstance(node, Constant)

    def leaves(self, output: Feature) -> list[Feature]:
        """What the MLP writing ``output`` reads (stored s-ops; see :meth:`look_through`)."""
        node = self.nodes[output.key[0]]
        if output.key in self.state.via:
            source = self.state.via[output.key]
            return [self.feature(self.nodes[source[0]], source[1])]
        if isinstance(node, ATTENTION):
            return [self.feature(node, self.native(node))]
        through: set[int] = set()
        while True:
            found = self.walk(node, through)
            more = self.look_through(found, through)
            if not more:
                return found
            through |= more

    def walk(self, node: SOp, through: set[int]) -> list[Feature]:
        found: dict[int, Feature] = {}
        stack, seen = list(node.children), set()
        while stack:
            n = stack.pop()
            if n.id in seen or isinstance(n, Constant):
                continue
            seen.add(n.id)
            if self.stored(n) and n.id not in through:
                found[n.id] = self.leaf_feature(n)
            elif self.coarse(n):
                found[n.id] = self.feature(n, "cat")
            else:
                stack.extend(n.children)
        return [found[k] for k in sorted(found)]

    # ------------------------------------------------------------ producers

    def build(self) -> tuple[list[HeadPlan], list[tuple[Feature, list[Feature]]]]:
        """Heads and MLPs for the current requirements (twice: the second pass knows layers)."""
        self.blocks, self.heads_out = {}, set()
        heads, mlps = self.build_once()
        self.blocks = assign_blocks(heads, mlps)
        self.heads_out = {h.output.key for h in heads}
        return self.build_once()

    def build_once(self) -> tuple[list[HeadPlan], list[tuple[Feature, list[Feature]]]]:
        self.features = {}
        heads, mlps = [], []
        for node in self.order:
            if isinstance(node, ATTENTION):
                heads.append(self.head(node))
        for nid, views in sorted(self.state.required.items()):
            node = self.nodes[nid]
            for view in sorted(views):
                f = self.feature(node, view)
                if f.producer == "mlp":
                    mlps.append((f, self.leaves(f)))
        return heads, mlps

    def head(self, node: SOp) -> HeadPlan:
        kind = self.kind(node)
        output = self.feature(node, self.native(node))
        if isinstance(node, Length):  # the mean of 2*index + 1 over all n positions is n
            value = self.feature(self.indices_node(), self.length_view())
            coords = tuple(2.0 * i + 1.0 for i in value.values)
            return HeadPlan(node, kind, Score((), 0.0, True, True), {}, value, output, -1, coords)
        f = formula(node.selector)
        score = construct(f, lambda a, b: exclusive(a, b, self.vs.union))
        if score is None or (kind != "select" and not score.exact_top):
            self.blockers.append(f"{node.label}: no single head computes {node.selector.label}")
            score = score or Score((), 0.0, True, True)
        inputs = {var: self.feature(n, "cat") for var, n in variables(f).items()}
        value = None
        if isinstance(node, Aggregate):
            views = self.state.required.get(node.sop.id, set())
            view = "cat" if kind != "mean" or "cat" in views else "num"
            value = self.feature(node.sop, view)
        scale = self.count_scales.get(node.id, self.scale) if kind == "count" else None
        return HeadPlan(node, kind, score, inputs, value, output, count_scale=scale)

    def synthesize(self, output: Feature, leaves: list[Feature]) -> MLPSpec | None | str:
        key = (output.key, tuple(f.key for f in leaves))
        if key not in self.synth_cache:
            self.synth_cache[key] = self._synthesize(output, leaves)
        return self.synth_cache[key]

    def _synthesize(self, output: Feature, leaves: list[Feature]) -> MLPSpec | None | str:
        node = self.nodes[output.key[0]]
        dom = domain(node, leaves, [self.nodes[f.key[0]] for f in leaves], self.vs)
        if dom is None:
            return "too-many"
        codes, table, which = dom
        # The domain joins each leaf's values per position, so it may hold combinations no
        # input makes. Those that give a value outside the s-op's (complete) value set are
        # such combinations: the MLP need not compute them.
        index = value_indices(output, table)
        codes, which = codes[index[which] >= 0], which[index[which] >= 0]
        used = np.flatnonzero(np.bincount(which, minlength=len(table)))
        if output.kind == "cat":
            target = Target.categorical(output.directions)
            lookup = index
        else:
            target = Target.numerical(output.directions[0])
            lookup = np.zeros(len(table))
            lookup[used] = [float(table[c]) for c in used.tolist()]
        return synthesize([f.leaf() for f in leaves], codes, target, lookup[which])

    # ------------------------------------------------------------ schedule

    def run(self) -> Layout:
        self.collect()
        for _ in range(ROUNDS):
            self.blockers = []
            heads, mlps = self.build()
            if self.hoist(heads, mlps):
                continue
            failed, specs = [], {}
            for out, leaves in mlps:
                result = self.synthesize(out, leaves)
                if isinstance(result, MLPSpec):
                    specs[out.key] = result
                else:
                    failed.append((out, leaves, result))
            if not failed:
                break
            if not any(self.fix(*item) for item in failed):
                self.blockers += [cannot(*item) for item in failed]
                break
        if self.blockers:
            raise CompileError.from_blockers(list(dict.fromkeys(self.blockers)))
        return self.finish(heads, [MlpPlan(o, tuple(ls), specs[o.key]) for o, ls in mlps])

    def finish(self, heads: list[HeadPlan], mlps: list[MlpPlan]) -> Layout:
        blocks = assign_blocks(heads, [(m.output, m.leaves) for m in mlps])
        heads = [replace(h, block=blocks[h.output.key]) for h in heads]
        mlps = [replace(m, block=blocks[m.output.key]) for m in mlps]
        heads, mlps, n_blocks = compact(heads, mlps)
        out = self.feature(self.program, self.out_view)
        written = [h.output for h in sorted(heads, key=lambda h: h.block)]
        written += [m.output for m in sorted(mlps, key=lambda m: m.block)]
        embedded = [f for f in self.features.values() if f.producer == "embed"]
        features = {f.key: f for f in [*embedded, *written, out] if f.directions}
        return Layout(
            tuple(features.values()),
            tuple(heads),
            tuple(mlps),
            n_blocks,
            out,
            self.scale,
            tuple(dict.fromkeys(self.notes)),
            dict(self.nodes),
            self.scalar_logits,
        )


def plan(
    program: SOp,
    vs: ValueSets,
    count_scale: float,
    out_view: str | None = None,
    count_scales: dict[int, float] | None = None,
) -> Layout:
    """Lay ``program`` out in layers; raises CompileError listing every blocker."""
    planner = _Planner(program, vs, count_scale, out_view, count_scales or {})
    try:
        return planner.run()
    except CompileError:
        if not planner.scalar_logits:
            raise
    # an output stored as a scalar could not be computed: store it one-hot instead
    return _Planner(program, vs, count_scale, "cat", count_scales or {}).run()
