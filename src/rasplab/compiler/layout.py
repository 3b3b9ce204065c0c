"""Stage 4, the plan: which s-ops live in the residual stream, who writes them, which layer.

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

:func:`plan` is the whole stage, one round loop over plain data (see
:mod:`.plans`): the needs of the heads and the output, then rounds that build
heads and MLP jobs for the needs (:mod:`.views`), widen the needs where
fusing fails (:mod:`.fusion`) and build each MLP (:mod:`.mlp_jobs`).

>>> from rasplab import tokens, indices, length, select, aggregate
>>> from rasplab.compiler.value_sets import infer
>>> reverse = aggregate(select(indices, length - indices - 1, "=="), tokens)
>>> layout = plan(reverse, infer(reverse, "ab", 4), 4.0)
>>> [h.kind for h in layout.heads], layout.n_blocks
(['mean', 'select'], 2)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ..errors import CompileError
from ..lang.graph import ATTENTION, topological_order
from ..lang.nodes import Aggregate, Indices, Length, Node, Selector, SelectorWidth, SOp, Tokens
from .causal import mask_note, under_mask
from .features import Feature
from .fusion import cannot, decode_first, fix, hoist, leaves, read_beside_maps
from .limits import checkpoint
from .mlp_jobs import build_mlps, slack_notes
from .outputs import choose_output, scalar_select_fit
from .plans import (
    HeadNode,
    HeadPlan,
    Layout,
    MlpJob,
    MlpPlan,
    Needs,
    OutputChoice,
    PlanContext,
    Round,
)
from .positional import primitives_below
from .quadratic import QuadraticFit, quadratic_heads, quadratic_note
from .schedule import assign_blocks, compact
from .selectors import Score, construct, exclusive, formula, variables
from .storage import View
from .units import MLPSpec
from .value_sets import ValueSets
from .views import Pass, aggregate_kind, feature, length_view, native_view

__all__ = ["plan", "planning_context", "Layout"]

ROUNDS = 16  # most rounds of widening the needs before the planner gives up


def plan(
    program: SOp,
    vs: ValueSets,
    count_scale: float,
    out_view: View | None = None,
    count_scales: dict[int, float] | None = None,
    numbers: frozenset[int] = frozenset(),
    causal: bool = False,
    decode_counts: bool = False,
    input_errors: Mapping[str, tuple[float, float]] | None = None,
) -> Layout:
    """Lay ``program`` out in layers; raises CompileError listing every blocker.

    ``numbers`` holds the aggregates whose select compares positions as numbers
    (:mod:`.quadratic`; the cost model of :mod:`.cost` picks them); every other
    select reads its sides one-hot. ``causal``: heads under a causal mask test only
    what it leaves of each selector (:func:`~.causal.under_mask`). ``decode_counts``:
    counts that an MLP combines are decoded to numbers first (:func:`.fusion.decode_first`).
    ``input_errors``: how far each direction may be off in float32, by a first build's
    bounds; MLPs' ramps leave room for it (:mod:`.input_errors`)."""
    context = planning_context(
        program, vs, count_scale, count_scales or {}, out_view, numbers, causal
    )
    context = replace(context, decode_counts=decode_counts, input_errors=input_errors)
    needs, output = initial_needs(context, out_view)
    for _ in range(ROUNDS):
        checkpoint("the plan (stage 4)")
        built = build_round(context, needs)
        hoisted = hoist(context, needs, built)  # store sub-expressions that are ready early
        if hoisted is not None:
            needs = hoisted
            continue
        decoded = decode_first(context, needs, built) if context.decode_counts else None
        if decoded is not None:
            needs = decoded
            continue
        specs, failures = build_mlps(context, built.mlps, built.heads)
        fixed = fix(context, needs, failures)  # store an intermediate, then try again
        if fixed is None:
            break
        needs = fixed
    else:
        raise CompileError.from_blockers(
            [*built.blockers, f"{program.label}: no layout settled within {ROUNDS} rounds"]
        )
    blockers = [*built.blockers, *(cannot(f) for f in failures)]
    if blockers and output.scalar_logits:
        # an output stored as a scalar could not be computed: store it one-hot instead
        return plan(
            program,
            vs,
            count_scale,
            View.ONE_HOT,
            count_scales,
            numbers,
            causal,
            decode_counts,
            input_errors,
        )
    if blockers:
        raise CompileError.from_blockers(list(dict.fromkeys(blockers)))
    return finish(context, needs, output, built, specs)


# ---------------------------------------------------------------- what is needed


def planning_context(
    program: SOp,
    vs: ValueSets,
    count_scale: float,
    count_scales: dict[int, float],
    out_view: View | None,
    numbers: frozenset[int] | None = frozenset(),
    causal: bool = False,
) -> PlanContext:
    """What planning reads. ``numbers``: the aggregates that select positions as numbers
    (None: every one that could, whether float32 keeps it exact or not); ``causal``:
    heads under a causal mask."""
    everything = topological_order(program)
    order = tuple(n for n in everything if isinstance(n, SOp))
    nodes: dict[int, SOp] = {n.id: n for n in order}
    names = _names(program)
    indices = next((n for n in order if isinstance(n, Indices)), None)
    if indices is None and any(isinstance(n, Length) for n in order):
        indices = Indices()  # length's head averages the indices, stored for it alone
        nodes[indices.id], names[indices.id] = indices, "indices"
    below = primitives_below(program, ATTENTION)
    positional = frozenset(n.id for n in order if below[n.id] <= {Indices})
    scalar_select = scalar_select_fit(program, vs, out_view)
    return PlanContext(
        program,
        vs,
        count_scale,
        count_scales,
        order,
        nodes,
        names,
        positional=positional,
        lexical=frozenset(n.id for n in order if below[n.id] <= {Tokens}),
        indices=indices,
        scalar_select=scalar_select,
        quadratic=quadratic_heads(program, order, vs, (positional, scalar_select, numbers, causal)),
        causal=causal,
    )


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


def initial_needs(context: PlanContext, out_view: View | None) -> tuple[Needs, OutputChoice]:
    """What heads store and read (their selectors' inputs one-hot; a mean's value as a
    number unless it is one-hot anyway), then the output."""
    views: dict[int, set[View]] = {}
    averaged: list[SOp] = []
    for node in context.order:
        if not isinstance(node, ATTENTION):
            continue
        views.setdefault(node.id, set()).add(native_view(context, node))
        if isinstance(node, Length):
            continue
        for n in variables(head_formula(context, node.selector)).values():
            views.setdefault(n.id, set()).update(_side_views(context, node, n))
        if isinstance(node, Aggregate):
            if aggregate_kind(context, node) == "mean":
                averaged.append(node.sop)
            else:
                views.setdefault(node.sop.id, set()).add(View.ONE_HOT)
    for sop in averaged:
        if View.ONE_HOT not in views.get(sop.id, ()):
            views.setdefault(sop.id, set()).add(View.SCALAR)
    needs = read_beside_maps(context, Needs({nid: frozenset(vs) for nid, vs in views.items()}))
    masked = mask_note(context.order) if context.causal else None
    needs = needs if masked is None else needs.with_note(masked)
    for nid, fit in context.quadratic.items():
        longest = context.values.max_seq_len
        needs = needs.with_note(quadratic_note(context.names[nid], fit, longest))
    output = choose_output(context, needs, out_view)  # it looks at the needs above
    needs = needs.with_view(context.program.id, output.view)
    return (needs if output.note is None else needs.with_note(output.note)), output


# ---------------------------------------------------------------- what is built


def build_round(context: PlanContext, needs: Needs) -> Round:
    """Heads and MLP jobs for ``needs``: once to find layers, then again knowing them
    (an MLP may then read a stored s-op's own inputs, where that makes it earlier)."""
    first = Pass(context, needs)
    heads, mlps = _build(first)
    heads_out = frozenset(h.output.key for h in heads)
    second = Pass(context, needs, assign_blocks(heads, mlps), heads_out)
    heads, mlps = _build(second)
    blockers = (*first.blockers, *second.blockers)
    return Round(tuple(heads), tuple(mlps), dict(second.used), blockers)


def _build(work: Pass) -> tuple[list[HeadPlan], list[MlpJob]]:
    heads = [_head(work, n) for n in work.context.order if isinstance(n, ATTENTION)]
    mlps = []
    for nid, views in sorted(work.needs.views.items()):
        node = work.context.nodes[nid]
        for view in sorted(views, key=View.rank):
            f = feature(work, node, view)
            if f.producer == "mlp":
                mlps.append((f, tuple(leaves(work, f))))
    return heads, mlps


def _head(work: Pass, node: HeadNode) -> HeadPlan:
    context = work.context
    kind = aggregate_kind(context, node)
    output = feature(work, node, native_view(context, node))
    if isinstance(node, Length):  # the mean of 2*index + 1 over all n positions is n
        if context.indices is None:
            # planning_context adds the indices wherever the program has a length
            raise RuntimeError(f"{node.label}: no indices for its head to average")
        averaged = feature(work, context.indices, length_view(context))
        coords = tuple(2.0 * i + 1.0 for i in averaged.values)
        return HeadPlan(node, kind, Score((), 0.0, True, True), {}, averaged, output, -1, coords)
    f = head_formula(context, node.selector)
    fit = context.quadratic.get(node.id)
    tested = f if fit is None else fit.rest  # what the head scores one-hot
    score = _score(work, node, kind, tested)
    read = variables(tested).items() if tested is not None else ()
    inputs = {var: feature(work, n, View.ONE_HOT) for var, n in read}
    if fit is not None:
        inputs.update(_quadratic_inputs(work, fit))
    value: Feature | None = None  # a count head moves no value
    if isinstance(node, Aggregate):
        one_hot = kind != "mean" or View.ONE_HOT in work.needs.views.get(node.sop.id, ())
        value = feature(work, node.sop, View.ONE_HOT if one_hot else View.SCALAR)
    scale = context.scale_of(node) if kind == "count" else None
    return HeadPlan(node, kind, score, inputs, value, output, count_scale=scale, quadratic=fit)


def _score(work: Pass, node: Aggregate | SelectorWidth, kind: str, tested: Any) -> Score:
    """The one-hot part of a head's score (a blocker where no head computes it)."""
    if tested is None:  # every test is an equality compared as numbers
        return Score((), 0.0, True, True)
    score = construct(tested, lambda a, b: exclusive(a, b, work.context.values.union))
    if score is None or (kind != "select" and not score.exact_top):
        work.blockers.append(f"{node.label}: no single head computes {node.selector.label}")
    return score or Score((), 0.0, True, True)


def head_formula(context: PlanContext, selector: Selector) -> Any:
    """What a head tests of ``selector``: all of it, or what a causal mask leaves."""
    f = formula(selector)
    return under_mask(f) if context.causal else f


def _side_views(context: PlanContext, head: SOp, side: SOp) -> tuple[View, ...]:
    """How a head reads a side of its selector: one-hot, or (an equality compared as
    numbers) the side's number and its square; a query that always matches needs no
    square."""
    fit = context.quadratic.get(head.id)
    keys = {t.keys.id for t in fit.terms} if fit is not None else set()
    queries = {t.queries.id for t in fit.terms} if fit is not None else set()
    if fit is None or side.id not in keys | queries:
        return (View.ONE_HOT,)
    needs_square = side.id in keys or not fit.plan.matched
    return (View.SCALAR, View.SQUARE) if needs_square else (View.SCALAR,)


def _quadratic_inputs(work: Pass, fit: QuadraticFit) -> dict[tuple, Feature]:
    """Each term's sides as numbers and squares (sides "q", "k"; squares "qq", "kk")."""
    inputs = {}
    for term in fit.terms:
        keys, queries = term.keys, term.queries
        inputs[("q", queries.id)] = feature(work, queries, View.SCALAR)
        inputs[("k", keys.id)] = feature(work, keys, View.SCALAR)
        inputs[("kk", keys.id)] = feature(work, keys, View.SQUARE)
        if not fit.plan.matched:
            inputs[("qq", queries.id)] = feature(work, queries, View.SQUARE)
    return inputs


# ---------------------------------------------------------------- the plan


def finish(
    context: PlanContext,
    needs: Needs,
    output: OutputChoice,
    built: Round,
    specs: dict[tuple, MLPSpec],
) -> Layout:
    """Layers for every head and MLP, empty layers dropped, features in residual order."""
    mlps = [MlpPlan(o, reads, specs[o.key]) for o, reads in built.mlps]
    blocks = assign_blocks(built.heads, built.mlps)
    heads = [replace(h, block=blocks[h.output.key]) for h in built.heads]
    mlps = [replace(m, block=blocks[m.output.key]) for m in mlps]
    heads, mlps, n_blocks = compact(heads, mlps)
    out = built.features[(context.program.id, output.view)]
    written = [h.output for h in sorted(heads, key=lambda h: h.block)]
    written += [m.output for m in sorted(mlps, key=lambda m: m.block)]
    embedded = [f for f in built.features.values() if f.producer == "embed"]
    features = {f.key: f for f in [*embedded, *written, out] if f.directions}
    return Layout(
        tuple(features.values()),
        tuple(heads),
        tuple(mlps),
        n_blocks,
        out,
        context.count_scale,
        tuple(dict.fromkeys([*needs.notes, *slack_notes(mlps, context.program.id)])),
        dict(context.nodes),
        output.scalar_logits,
    )
