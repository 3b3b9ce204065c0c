"""Stage 4's MLPs: an exact MLP for each job of a planning round, or why there is none.

A round of :func:`.layout.plan` asks for MLP jobs: an output feature and the
features it may read (its leaves). :func:`build_mlps` synthesizes each one
(:mod:`.mlp`) over the combinations of its leaves' values that give a value
in the output's value set, and keeps it in the planning context, so a later
round asking the same again costs nothing. A job no MLP computes comes back
as a :class:`~.plans.Failure` (too many inputs, or no exact fit), which the
planner answers by storing an intermediate (:mod:`.fusion`). The program's
output stored as one number may miss by ``OUTPUT_SLACK`` of the gap between
its values, since the unembedding rounds it to the nearest.

>>> from rasplab import tokens, indices, select, selector_width, zipmap
>>> from rasplab.compiler.layout import planning_context, initial_needs, build_round
>>> from rasplab.compiler.value_sets import infer
>>> same = selector_width(select(tokens, tokens, "=="))
>>> def round_of(program):
...     context = planning_context(program, infer(program, "ab", 6), 6.0, {}, None)
...     needs, _ = initial_needs(context, None)
...     built = build_round(context, needs)
...     return build_mlps(context, built.mlps, built.heads)
>>> specs, failures = round_of(same.map(lambda w: w * w))
>>> [len(spec.units) for spec in specs.values()], failures
([6], [])
>>> product = zipmap(lambda a, b: a * b, same, selector_width(select(indices, indices, "<")))
>>> specs, failures = round_of(product)  # two fresh counts multiplied: not in one MLP
>>> specs, [f.output.key[0] == product.id for f in failures]
({}, [True])
"""

from __future__ import annotations

import numpy as np

from ..lang.nodes import Map
from .domains import domain, value_indices
from .features import Feature
from .limits import checkpoint
from .mlp import synthesize
from .plans import Failure, HeadPlan, MlpJob, MlpPlan, PlanContext
from .slack import tolerant_outputs
from .storage import Storage
from .units import MLPSpec, Target, exact_copy

__all__ = ["build_mlps", "slack_notes", "OUTPUT_SLACK"]

OUTPUT_SLACK = 0.1  # an MLP writing the output as a number may miss by this much of a gap


def build_mlps(
    context: PlanContext, jobs: tuple[MlpJob, ...], heads: tuple[HeadPlan, ...]
) -> tuple[dict[tuple, MLPSpec], list[Failure]]:
    """An exact MLP for every job, by output key; the jobs none computes. ``heads``: the
    round's, which read some numbers exactly (:mod:`.slack`)."""
    specs, failures = {}, []
    tolerant = tolerant_outputs(jobs, heads, context.program.id)
    for out, reads in jobs:
        slack = _slack(context, out, tolerant.get(out.key, 0.0))
        key = (out.key, tuple(f.key for f in reads), slack)
        if key not in context.synthesized:
            context.synthesized[key] = _kept(context, out, reads, slack)
        result = context.synthesized[key]
        if isinstance(result, MLPSpec):
            specs[out.key] = result
        else:
            failures.append(Failure(out, reads, too_many=result == "too-many"))
    return specs, failures


def _kept(context: PlanContext, output: Feature, reads: tuple[Feature, ...], slack: float):
    """:func:`_synthesize`, kept in the value sets' memo for every build planned from them:
    a rebuild after the certificate asks again for most of the first build's MLPs (the
    same features over the same domain, and the same errors in what they read), which at
    1,024 positions take seconds each."""
    errors = context.input_errors or {}
    read = sorted({d for f in reads for r in f.readouts for d in r})
    known = tuple((d, errors[d]) for d in read if any(errors.get(d, (0.0, 0.0))))
    key = ("mlp", _fingerprint(output), tuple(map(_fingerprint, reads)), slack, known)
    memo = context.values.memo
    if key not in memo:  # the values are kept with it: their ids stay theirs
        checkpoint("building the MLPs (stage 4)", context.nodes[output.key[0]])
        kept = [f.values for f in (output, *reads)]
        # what does not depend on the errors, shared with the same MLP built for others
        shared = memo.setdefault(("mlp problem", *key[1:4]), {})
        memo[key] = (kept, _synthesize(context, output, reads, slack, shared))
    return memo[key][1]


def _fingerprint(f: Feature) -> tuple:
    """What an MLP reading or writing ``f`` is built from: its values (by identity: the
    value sets' objects, kept with the memo), storage and residual content."""
    return (
        f.key,
        f.kind,
        tuple(map(id, f.values)),
        f.coords,
        f.directions,
        tuple(tuple(sorted(w.items())) for w in f.writes),
        tuple(tuple(sorted(r.items())) for r in f.readouts),
        f.exact,
        frozenset(f.aliases.items()) if f.aliases else None,
    )


def _synthesize(
    context: PlanContext,
    output: Feature,
    reads: tuple[Feature, ...],
    slack: float,
    cache: dict | None = None,
):
    """The MLP writing ``output`` from ``reads``, within ``slack`` where it is a number;
    None, or "too-many" inputs to build it. ``cache``: the problem's, for the same MLP
    built with other errors in its inputs (:func:`.mlp.synthesize`)."""
    node = context.nodes[output.key[0]]
    dom = domain(node, reads, [context.nodes[f.key[0]] for f in reads], context.values)
    if dom is None:
        return "too-many"
    codes, table, which = dom
    # The domain joins each leaf's values per position, so it may hold combinations no
    # input makes. Those that give a value outside the s-op's (complete) value set are
    # such combinations: the MLP need not compute them.
    index = value_indices(output, table)
    codes, which = codes[index[which] >= 0], which[index[which] >= 0]
    used = np.flatnonzero(np.bincount(which, minlength=len(table)))
    if output.kind is Storage.ONE_HOT:
        target = Target.categorical(output.directions)
        lookup = index
    else:
        target = Target.numerical(output.directions[0], slack)
        lookup = np.zeros(len(table))  # each value's coordinate (a square's is its square)
        lookup[used] = [output.coords[index[c]] for c in used.tolist()]
    leaves = [f.leaf() for f in reads]
    copy = isinstance(node, Map) and node.f is exact_copy
    return synthesize(leaves, codes, target, lookup[which], context.input_errors, copy, cache)


def _slack(context: PlanContext, output: Feature, share: float) -> float:
    """How far the MLP writing ``output`` may miss: the program's output stored as one
    number is decoded to the nearest value, so it may be off by ``OUTPUT_SLACK`` of the
    gap between neighbouring values; a number only MLPs of steps read by its ``share``
    of it (:mod:`.slack`); anything else another layer reads must be exact."""
    if output.kind is not Storage.SCALAR or len(output.coords) < 2:
        return 0.0
    gap = float(np.diff(np.sort(np.asarray(output.coords))).min())
    if output.key[0] == context.program.id:
        return OUTPUT_SLACK * gap
    return share * gap


def slack_notes(mlps: list[MlpPlan], program: int) -> list[str]:
    """What each MLP that may miss says, and why that is safe."""
    return [
        f"{m.output.name}: the MLP writing "
        + (
            "the output as one number is within {:g} of every value, which the unembedding "
            "rounds to the nearest"
            if m.output.key[0] == program
            else "it is within {:g} of every value, and only MLPs that tell its values "
            "apart by thresholds midway between them read it"
        ).format(m.spec.slack)
        + f" ({len(m.spec.units)} units, not one per value)"
        for m in mlps
        if m.spec.slack
    ]
