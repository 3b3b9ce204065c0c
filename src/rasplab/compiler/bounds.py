"""Stage 7 for large domains: exactness on every input, proved by bound propagation.

Enumeration (:mod:`.certify`) stops at a few thousand inputs. Here no input
is run: the model's own weights are evaluated at the exact encoding of every
value (or combination of values) the value sets allow, and an error bound
``delta`` per residual direction is carried through the layers:

* the embedding's error (:mod:`.bounds_embedding`) is how far its rows are from the
  exact encodings;
* each head (:mod:`.bounds_heads`) adds how far its output can be from the
  exact encoding, whatever the input's length and values: a bound of the
  softmax weight on keys the program does not select, given the smallest
  score gap under the input errors;
* each MLP (:mod:`.bounds_mlps`) adds its error at the exact inputs plus how
  far the input errors move it (interval arithmetic through the ReLUs);
* at the end every decoded output must keep a positive margin: the correct
  logit above every other (categorical), or the scalar inside its value's
  decoding interval (numerical).

Where a sublayer reads the position, its combinations are listed position by
position from the value sets per position (``length`` is at least the
position plus one), which leaves out combinations no input reaches.

The argument runs for float32 on the weights rounded to float32, with every
matrix product's rounding bounded by ``gamma_n = n u / (1 - n u)`` (``u =
2^-24``, or ``2^-53`` for float64) times the sum of the absolute products, the
softmax's by ``gamma`` of its length; then for float64 on the weights, where
float32 leaves a margin open. The
value sets' product over-approximates what inputs can reach, so the argument
is sound for every input of lengths 1..max_seq_len, causal or not (a causal
query sees fewer keys, never more). What it cannot bound is listed as open.

>>> from rasplab.library import reverse
>>> from rasplab.compiler.driver import compile_with_blueprint
>>> model, blueprint = compile_with_blueprint(reverse(), "abc", 64)
>>> proof = certificate_by_bounds(model, blueprint, None, 0)
>>> proof.status, proof.method, proof.open, proof.worst_margin_float32 > 0.99
('proved', 'bounds', (), True)
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from ..lang.nodes import Node
from ..model.filecheck import weights_digest as digest_of
from ..model.info import Certificate
from ..model.model import MLP, Attention, CompiledModel
from .bounds_embedding import embedding_stream
from .bounds_heads import Head, head_bound
from .bounds_mlps import mlp_bound
from .bounds_output import output_margin
from .bounds_space import Refused, Stream, in_time, time_budget
from .bounds_sums import added, epsilons, rounded_model, unbounded
from .plans import HeadPlan, Layout
from .ranks import one_key
from .rounding import UNIT_ROUNDOFF_FLOAT32, UNIT_ROUNDOFF_FLOAT64, Rounding
from .schedule import merge_heads
from .value_sets import ValueSets

__all__ = [
    "Blueprint",
    "Propagation",
    "propagate",
    "certificate_by_bounds",
    "weights_digest",
    "float32_pass_of",
    "DEFAULT_COMBINATIONS",
    "FLOAT32_ERRORS",
]

# value combinations one head side, MLP group or unembedding may list (a head: 16 times as
# many (query, key) pairs, scored a block at a time), each a residual of d_model floats
# (their memory is capped apart, by bounds_space.WIDTH_LIMIT): two counts of up to 1,024
# keys each make 1,050,625
DEFAULT_COMBINATIONS = 2_000_000
FLOAT32_ERRORS = "float32 errors"  # the memo's key for what a float32 pass left open
FLOAT32_PASS = "float32 pass"  # with the weights' digest: a float32 pass, kept
BOUNDS_SECONDS = 30.0  # the bound argument's time budget: past it, what is left stays open


@dataclass(frozen=True, eq=False)
class Blueprint:
    """What a model was assembled from: its layout, and the value sets planned over (their
    selector widths say which selects always, or never more than once, pick a key)."""

    layout: Layout
    values: ValueSets
    origin: Mapping[int, Node] = field(default_factory=dict)  # rewritten node -> the user's
    memo: dict = field(default_factory=dict, repr=False)  # MLP targets, the same every pass
    # a rebuild, kept only if proved in float32: that pass first, float64 only after it
    float32_first: bool = False
    # with float32_first: the float64 pass runs even where float32 leaves something open (a
    # rebuild smaller than the first model is kept where proved in float64)
    float64_too: bool = False


@dataclass
class _Log:
    """What a pass found on its way: open items, score gaps, each sublayer's error."""

    unproved: list[str] = field(default_factory=list)
    gaps: list[float] = field(default_factory=list)
    errors: list[tuple[str, np.ndarray]] = field(default_factory=list)

    def causes(self, directions: Sequence[str], floor: float = 0.01) -> str:
        """The sublayers whose error reaches ``floor``, in order, with the worst direction."""
        found = [
            f"{who}: up to {err.max():.3g} in {directions[int(err.argmax())]}"
            for who, err in self.errors
            if err.size and not err.max() < floor
        ]
        return "; ".join(found[:6]) or "none over the rounding"


@dataclass(frozen=True)
class Propagation:
    """What one pass of the bound argument found."""

    arithmetic: str  # "float64" | "float32" (or "exact arithmetic")
    margin: float | None  # the worst decoding margin the bounds keep (None: nothing competes)
    open: tuple[str, ...]  # what could not be bounded, or a margin the bounds do not keep
    smallest_gap: float | None  # the smallest score gap between intended and other keys
    feature_errors: dict[str, float] = field(default_factory=dict)  # name -> its epsilon
    errors: dict[str, tuple[float, float]] = field(default_factory=dict)  # direction ->
    # (delta, relative): its error bound at the end is delta + relative * |value|
    # something stays open whatever the arithmetic: a list too long, a budget spent, an
    # aggregate's "moves one value" (not a margin that rounding closed)
    structural: bool = False


def weights_digest(model: CompiledModel) -> str:
    """sha256 of every weight array (:func:`~rasplab.model.filecheck.weights_digest`)."""
    return digest_of(model.arrays())


def certificate_by_bounds(
    model: CompiledModel,
    blueprint: Blueprint,
    n_domain: int | None,
    limit: int,
    seconds: float = BOUNDS_SECONDS,
) -> Certificate:
    """Stage 7 by bounds: ``"proved"`` when both passes keep every output's margin, else
    ``"sampled"`` with what stays open (a bound is not a counterexample: never "failed").
    Both passes together stop after ``seconds``; what they had not bounded stays open.

    The float32 pass runs first: float64 only rounds less in the same argument, so where
    float32 keeps every margin, float64 does too, at least as wide (``worst_margin`` is
    then float32's, a lower bound), and its pass would only take time; where float32
    leaves open what no arithmetic closes (a list over its limit, the time budget, an
    aggregate not shown to move one value), so would float64. A rebuild
    (``float32_first``) kept only if proved in float32 skips it after a failed float32
    pass, unless ``float64_too`` (:func:`_float32_pass`)."""
    start, digest = time.perf_counter(), weights_digest(model)
    with time_budget(seconds):
        narrow = _float32_pass(model, blueprint, digest)
        # float64 would keep every margin float32 keeps, and leave open what it leaves
        # open for other reasons; a rebuild kept only if proved in float32 waits for it
        waits = blueprint.float32_first and not blueprint.float64_too
        if narrow.structural or not narrow.open or waits:
            exact = narrow
        else:
            exact = propagate(model, blueprint, float32=False)
            if exact.open and not blueprint.float32_first:
                narrow = exact  # where float64 leaves something open, float32 adds nothing
    wide = _past_time(exact.open)
    unproved = wide + tuple(f"float32: {o}" for o in _past_time(narrow.open) if o not in wide)
    if narrow.open and (blueprint.float32_first or not exact.open):
        blueprint.memo[FLOAT32_ERRORS] = narrow.errors  # a rebuild may leave room for these
    dtype = "float32" if not unproved else None if exact.open else "float64"
    return Certificate(
        "sampled" if unproved else "proved",
        n_domain,
        limit=limit,
        worst_margin=None if exact.open else _kept(exact.margin),
        worst_margin_float32=None if unproved else _kept(narrow.margin),
        margin_unit="logit" if model.output.kind == "categorical" else "coordinate",
        open=unproved,
        seconds=round(time.perf_counter() - start, 4),
        method="bounds",
        weights_sha256=digest,
        dtype=dtype,
    )


def _float32_pass(model: CompiledModel, blueprint: Blueprint, digest: str) -> Propagation:
    """The float32 pass; a ``float32_first`` one is kept with the weights' digest for the
    float64 pass, which waits until no rebuild is proved in float32."""
    key = (FLOAT32_PASS, digest)
    if key in blueprint.memo:
        return blueprint.memo[key]
    found = propagate(model, blueprint, float32=True)
    if blueprint.float32_first:
        blueprint.memo[key] = found
    return found


def float32_pass_of(blueprint: Blueprint, digest: str | None) -> Propagation | None:
    """The float32 pass kept for the weights of ``digest`` (``float32_first``), if any."""
    return blueprint.memo.get((FLOAT32_PASS, digest))


def _past_time(items: tuple[str, ...]) -> tuple[str, ...]:
    """Once the time budget is spent, every part after it is open for the same reason: one
    item names the first part and how many follow, not one item each."""
    late = [i for i, o in enumerate(items) if _OUT_OF_TIME in o]
    if len(late) < 2:
        return items
    first = items[late[0]]
    what, why = first.split(_OUT_OF_TIME, 1)
    more = f"{what.removesuffix(':')} and the {len(late) - 1} parts after it:"
    kept = tuple(o for i, o in enumerate(items) if i not in late[1:])
    return tuple(more + _OUT_OF_TIME + why if o == first else o for o in kept)


_OUT_OF_TIME = " not bounded within the bounds' time budget"


def _kept(margin: float | None) -> float | None:
    """A margin the bounds keep (None where they keep none, or nothing competes)."""
    return margin if margin is not None and margin > 0 else None


def propagate(
    model: CompiledModel,
    blueprint: Blueprint,
    float32: bool,
    limit: int = DEFAULT_COMBINATIONS,
) -> Propagation:
    """One pass of the bound argument over ``model`` (assembled from ``blueprint``)."""
    with np.errstate(over="ignore", invalid="ignore"):  # an unbounded error is inf or NaN
        return _propagate(model, blueprint, float32, limit)


def _propagate(
    model: CompiledModel, blueprint: Blueprint, float32: bool, limit: int
) -> Propagation:
    layout = blueprint.layout
    rounding = Rounding(UNIT_ROUNDOFF_FLOAT32 if float32 else UNIT_ROUNDOFF_FLOAT64)
    if float32:
        model = rounded_model(model)
    log = _Log()
    stream = embedding_stream(model, layout, blueprint.values, blueprint.origin, rounding)
    embedded = np.any(model.W_E != 0, axis=0) | np.any(model.W_pos != 0, axis=0)
    stream = replace(stream, filled=embedded)
    for b, block in enumerate(model.blocks):
        stream = _attention(stream, model, blueprint, b, block.attn, log, limit)
        stream = _mlp(stream, blueprint, b, block.mlp, log, limit)
    margin = None
    try:
        margin = output_margin(stream, model, layout, limit)
    except Refused as err:
        log.unproved.append(str(err))
    structural = bool(log.unproved)  # every item so far is a Refused or "moves one value"
    if margin is not None and not margin > 0 and not log.unproved:  # NaN keeps nothing either
        log.unproved.append(
            f"the bounds do not keep the output's decoding: its margin may fall to {margin:.3g} "
            f"(errors on the way: {log.causes(model.directions)})"
        )
    gap = min(log.gaps, default=None)
    found = (margin, tuple(log.unproved), gap, epsilons(stream), stream.bounds(), structural)
    return Propagation(rounding.name, *found)


def _attention(
    stream: Stream,
    model: CompiledModel,
    blueprint: Blueprint,
    b: int,
    attn: Attention,
    log: _Log,
    limit: int,
) -> Stream:
    layout = blueprint.layout
    groups = merge_heads([h for h in layout.heads if h.block == b])
    names = tuple("+".join(h.output.name for h in g) for g in groups)
    if names != attn.names:
        log.unproved.append(f"layer {b}: the heads {attn.names} are not those planned {names}")
        groups = []
    writes = np.any(attn.W_O != 0, axis=(0, 1)) | (attn.b_O != 0)
    sums = [stream.delta + np.abs(attn.b_O), stream.bos + attn.b_O, stream.bos_delta.copy()]
    sums.append(np.zeros_like(stream.delta) if stream.relative is None else stream.relative)
    sums.append(writes)  # a head's refusal leaves these unbounded, and no other direction
    if names != attn.names:
        sums[0] = sums[0] + unbounded(writes)
    for j, group in enumerate(groups):
        head = Head(
            attn,
            j,
            group,
            model.max_seq_len,
            model.causal,
            layout.count_scale,
            layout.nodes,
            _widths(blueprint.values, group[0], blueprint.origin),
        )
        _add_head(stream, head, b, limit, log, sums, blueprint.memo)
    delta, bos, bos_delta, relative, _ = sums
    written = [h.output for h in layout.heads if h.block == b]
    written_stream = replace(stream.with_features(written), relative=relative)
    return added(written_stream, delta, bos, bos_delta, writes)


def _add_head(
    stream: Stream,
    head: Head,
    b: int,
    limit: int,
    log: _Log,
    sums: list[np.ndarray],
    memo: dict,
) -> None:
    """Add one head's bound to ``sums`` (error, BOS centre, BOS error, relative error);
    ``memo``: the blueprint's, which keeps the head's combinations for the next pass."""
    try:
        in_time(f"head {head.name}")
        found = head_bound(stream, head, limit, memo)
    except Refused as err:
        log.unproved.append(str(err))
        sums[0] = sums[0] + unbounded(sums[4])
        return
    log.unproved.extend(found.open)
    log.gaps.append(found.gap)
    log.errors.append((f"head {head.name} (layer {b})", found.error))
    sums[0] = sums[0] + np.where(sums[4], found.error, 0.0)
    sums[1] = sums[1] + found.bos_out
    sums[2] = sums[2] + found.bos_error
    if found.relative is not None:
        sums[3] = sums[3] + np.where(sums[4], found.relative, 0.0)


def _widths(values: ValueSets, plan: HeadPlan, origin: Mapping[int, Node]) -> frozenset[int] | None:
    """How many keys the head's selector may pick, over every position (None: unknown):
    the value sets' widths, at most one where a flag shows it (:func:`.ranks.one_key`)."""
    selector = getattr(plan.node, "selector", None)
    found = values.widths.get(selector.id) if selector is not None else None
    widths = frozenset().union(*found) if found else None
    if selector is not None and one_key(selector, values, origin):
        return frozenset(w for w in widths or (0, 1) if w <= 1)
    return widths


def _mlp(stream: Stream, blueprint: Blueprint, b: int, mlp: MLP, log: _Log, limit: int) -> Stream:
    layout = blueprint.layout
    plans = [m for m in layout.mlps if m.block == b]
    if not mlp.d_mlp:
        return stream
    writes = np.any(mlp.W_out != 0, axis=0) | (mlp.b_out != 0)
    try:
        in_time(f"the MLP of layer {b + 1}")
        memos = (blueprint.memo, blueprint.values.memo)  # this build's, and the compile's
        found = mlp_bound(stream, mlp, plans, layout.nodes, limit, *memos)
    except Refused as err:
        log.unproved.append(str(err))
        return replace(stream, delta=stream.delta + unbounded(writes))
    log.errors.extend((f"{who} (layer {b})", err) for who, err in found.parts)
    written = stream.with_features(m.output for m in plans)
    if found.relative is not None and found.relative.any():
        before = stream.relative if stream.relative is not None else 0 * stream.delta
        written = replace(written, relative=before + np.where(writes, found.relative, 0.0))
    return added(
        written,
        stream.delta + np.where(writes, found.error, 0.0),
        stream.bos + found.bos_out,
        stream.bos_delta + found.bos_error,
        writes,
    )
