"""After the certificate: a model proved in float64 only, built again another way.

Where the bounds prove a model in float64 but not in float32, the same program
(stages 1-3 kept) is built again, and the first rebuild the bounds prove in
float32 with at most ``ONE_HOT_GROWTH`` times the parameters is kept:

1. the same model with its MLPs' ramps placed to leave room for the float32
   errors the first bounds found in their inputs (:mod:`.input_errors`);
   then, where it compares computed numbers, its wide equalities of them
   tested as digits (:mod:`.digits`: causal dyck2 at 256); then, where a
   count compares an s-op an MLP computed, that s-op read through an exact
   copy (:mod:`.copies`: most_freq at 64), with the digits where they apply;
2. its counts decoded to numbers before an MLP combines two of them (each
   count's rounding then stays within its own gap);
3. its selects of numbers one-hot (their scores are exact in any float type,
   while numbers' rounding can grow through the MLPs that compute them);
4. both of the last two; then its wide equalities as digits and its selects
   one-hot, every count's ``B`` as small as its decoding allows
   (:func:`.mlp.decodable_scale`: ``n / 2`` at 1,024, which takes a quarter
   off a count's float32 error: causal dyck2 at 1,024, whose ``level`` adds
   two counts);
5. where none of those is proved, its counts that are added or subtracted with
   ``B = k n^2`` (read near-linearly, :func:`.split_widths.near_linear_scale`)
   each with ``B = n``, read on its own (near float32's reach, sort at 96, the
   sum's rounding blurs neighbours), and that model's own rebuilds 1 to 4.

A rebuild of 2 to 4 that is not proved is built once more with its ramps
placed for its own errors, where its bounds are finite (or, where its selects
are one-hot, for the directions whose bounds are, :func:`_placeable`). A ramp placed
for errors that leave it no room is still bounded: downstream of what the
rebuild changes, the errors it was placed for are stale (causal dyck2's
``bad`` at 1,024 reads an s-op whose first error came from ramps placed
without room for their input's). The rebuilds' bounds share what the first
certificate left of the bounds' budget, and run the float32 pass first; a
rebuild's random check (stage 6) runs once its bounds prove it.

From 96 positions on (where the first model is built with digits, and its random
check waits for its certificate: :mod:`.driver`), the first certificate runs its
float32 pass alone; where that leaves a margin open, rebuilds 1 to 4 are tried
before the model's float64 pass, which runs only where none is proved in float32
(at 1,024 positions it takes a second or two). Their notes then say the model was
not proved in float32, not that it was proved in float64; a model that float64
does not prove either may so be replaced by a rebuild proved in float32.

Where none is proved in float32, the smallest rebuild with fewer parameters
than the first model that the bounds prove in float64 (and the check passes)
is kept instead: the same guarantee in a smaller model (causal dyck2 at 1,024
tested as digits). Only such a rebuild runs the float64 pass after a failed
float32 one, and only once every rebuild has failed in float32, smallest first
(with its random check): most compiles never need them.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import Any, NamedTuple

from ..errors import CompileError, ResourceLimitError
from ..lang.nodes import Map
from ..model.model import CompiledModel
from .bounds import FLOAT32_ERRORS, Blueprint, float32_pass_of
from .certify import with_certificate
from .copies import copies_help
from .features import Feature
from .front import Fronts
from .input_errors import Errors
from .job import Job
from .layout import Layout
from .limits import seconds_left
from .storage import Storage, View
from .units import exact_copy

__all__ = [
    "Stages",
    "Candidate",
    "Rebuilt",
    "float32_rebuilt",
    "rebuilt",
    "within_growth",
    "ONE_HOT_GROWTH",
]

ONE_HOT_GROWTH = 4  # a model rebuilt to be proved in float32 may have this many times the params


class Stages(NamedTuple):
    """The driver's stages a rebuild runs: stages 1-5, and stage 6's check."""

    build: Callable[..., tuple[CompiledModel, Any, Blueprint]]  # (job, evidence, fronts)
    verified: Callable[..., tuple[CompiledModel, Any, Blueprint]]  # (job, *built, fronts)


def float32_rebuilt(
    stages: Stages,
    job: Job,
    built: tuple[CompiledModel, Blueprint],
    fronts: Fronts,
    proving: tuple[int, float],
    float64_waits: bool = False,
) -> CompiledModel:
    """The model, or the first rebuild (module docstring) proved in float32;
    ``proving``: the enumeration limit and the bounds' seconds of the first certificate.
    ``float64_waits``: the certificate ran the float32 pass alone (``float32_first``), and
    the model's float64 pass waits until no rebuild is proved (:func:`_float64_waited`)."""
    model, blueprint = built
    proof = model.info.certificate
    if proof is None or proof.dtype == "float32":
        return model
    limit, seconds = proving
    left = seconds_left(seconds - (proof.seconds or 0.0))  # within the compile's time limit
    if float64_waits:
        return _float64_waited(stages, job, built, fronts, (limit, left))
    if proof.dtype != "float64":
        return model
    retries = _retries(job, model, blueprint, _why(model))
    found, left, smaller = _first_proved(stages, retries, fronts, (limit, left), model.n_params)
    return _last_tries(stages, job, built, fronts, (limit, left), (found, smaller))


def _last_tries(
    stages: Stages,
    job: Job,
    built: tuple[CompiledModel, Blueprint],
    fronts: Fronts,
    proving: tuple[int, float],
    tried: tuple[CompiledModel | None, list[Candidate]],
) -> CompiledModel:
    """After rebuilds 1 to 4 of a model proved in float64: the one proved in float32
    (``tried``), else rebuild 5, else the smallest proved in float64, else the model."""
    (model, blueprint), (limit, left), (found, smaller) = built, proving, tried
    if found is None and left >= 1.0 and _near_linear(job, blueprint):
        found = _far(stages, _capped(job, model, "its counts"), fronts, (limit, left))
    if found is not None:
        return found
    kept = _smallest_in_float64(stages, smaller, fronts, (limit, left))
    return model if kept is None else _smaller_kept(kept, model)


def _float64_waited(
    stages: Stages,
    job: Job,
    built: tuple[CompiledModel, Blueprint],
    fronts: Fronts,
    proving: tuple[int, float],
) -> CompiledModel:
    """Rebuilds 1 to 4 of a model whose float32 pass left a margin open, before its float64
    pass: a rebuild proved in float32 replaces it, and that pass is not needed (at 1,024
    positions it takes a second or two). Where none is, the float64 pass runs, and the rest
    goes on as for a model proved in float64 (:func:`_last_tries`), or the model stands."""
    (model, blueprint), (limit, left) = built, proving
    proof = model.info.certificate
    first = float32_pass_of(blueprint, proof.weights_sha256 if proof else None)
    if first is None or first.structural:  # no arithmetic closes it: float64 adds nothing
        return model
    why = (
        "chosen after the certificate: as first built the bounds do not prove the model "
        f"in float32 ({model.n_params:,} parameters)"
    )
    retries = _retries(job, model, blueprint, why)
    found, left, smaller = _first_proved(stages, retries, fronts, (limit, left), model.n_params)
    if found is not None:
        return found
    both = replace(blueprint, float32_first=False)  # its float32 pass is kept: float64 now
    model = with_certificate(model, job.program, limit, both, max(left, 1e-3))
    proof = model.info.certificate
    left -= (proof.seconds or 0.0) if proof is not None else 0.0
    if proof is None or proof.dtype != "float64":
        return model
    return _last_tries(stages, job, (model, blueprint), fronts, (limit, left), (None, smaller))


def _smaller_kept(smaller: CompiledModel, first: CompiledModel) -> CompiledModel:
    """``smaller`` with a note saying why it stands in for ``first``."""
    note = (
        f"kept over the first build ({first.n_params:,} parameters): neither is proved in "
        f"float32, both are proved in float64, and this one is smaller"
    )
    return replace(smaller, info=replace(smaller.info, notes=(*smaller.info.notes, note)))


def _near_linear(job: Job, blueprint: Blueprint) -> bool:
    """Whether some count head has ``B = k n^2`` (read near-linearly), not ``B = n``."""
    if job.far_counts is not None:
        return False
    return any((h.count_scale or 0) > job.max_seq_len for h in blueprint.layout.heads)


def _first_proved(
    stages: Stages,
    retries: list[Job],
    fronts: Fronts,
    proving: tuple[int, float],
    n_params: int,
) -> tuple[CompiledModel | None, float, list[Candidate]]:
    """The first of ``retries`` proved in float32 (each not proved but with finite bounds
    tried once more, its ramps placed for its own errors), the seconds left, and the
    rebuilds with fewer than ``n_params`` parameters that float32 did not prove."""
    limit, left = proving
    smaller: list[Candidate] = []
    for retry in retries:
        for _ in range(2):  # once more where the rebuild's own errors may leave room
            if left < 1.0:
                return None, left, smaller
            tried = rebuilt(stages, retry, fronts, (limit, left), n_params)
            left -= tried.spent
            smaller += [tried.smaller] if tried.smaller is not None else []
            if tried.proved is not None:
                return tried.proved, left, smaller
            if tried.errors is None or retry.input_errors is not None:
                break
            retry = replace(retry, input_errors=tried.errors)
    return None, left, smaller


def _smallest_in_float64(
    stages: Stages, smaller: list[Candidate], fronts: Fronts, proving: tuple[int, float]
) -> CompiledModel | None:
    """The smallest of ``smaller`` that the bounds prove in float64 and the random check
    passes, or None. Their float64 passes and checks wait until no rebuild is proved in
    float32: at 1,024 positions each takes seconds, and most compiles never need them."""
    limit, left = proving
    for tried in sorted(smaller, key=lambda c: c.model.n_params):
        if left < 1.0:
            return None
        found = replace(tried.blueprint, float64_too=True)  # its float32 pass is kept
        try:
            model = with_certificate(tried.model, tried.job.program, limit, found, left)
            proof = model.info.certificate
            left -= (proof.seconds or 0.0) if proof is not None else 0.0
            if proof is None or proof.dtype != "float64":
                continue
            checked, _, again = stages.verified(tried.job, model, tried.policy, found, fronts)
        except (CompileError, ResourceLimitError, MemoryError):
            continue
        if again is found:  # else the check built it again: the proof is of another model
            return replace(checked, info=replace(checked.info, certificate=proof))
    return None


def _far(
    stages: Stages, job: Job, fronts: Fronts, proving: tuple[int, float]
) -> CompiledModel | None:
    """Rebuild 5 (module docstring) and, where the bounds prove it in float64 only, its own
    rebuilds 1 to 4: the first proved in float32, or None."""
    limit, left = proving
    try:
        other, policy, found = stages.build(job, [], fronts)
        other, _, found = stages.verified(job, other, policy, found, fronts)
        other = with_certificate(other, job.program, limit, found, left)
    except (CompileError, ResourceLimitError, MemoryError):
        return None
    again = float32_rebuilt(stages, job, (other, found), fronts, (limit, left))
    proof = again.info.certificate
    return again if proof is not None and proof.dtype == "float32" else None


def within_growth(job: Job, n_params: int) -> Job:
    """``job`` allowed at most ``ONE_HOT_GROWTH`` times ``n_params`` parameters (and no
    more than it allowed already): what any rebuild of a model of that size may take."""
    cap = ONE_HOT_GROWTH * n_params
    return replace(job, max_params=min(job.max_params or cap, cap))


def _capped(job: Job, model: CompiledModel, far: str | None = None) -> Job:
    """:func:`within_growth` of the model (``far``: with its counts kept apart, for this
    reason)."""
    capped = within_growth(job, model.n_params)
    if far is None:
        return capped
    return replace(capped, far_counts=f"{_why(model)}; {far} are read each with B = n")


def _why(model: CompiledModel) -> str:
    return (
        "chosen after the certificate: as first built the bounds prove the model in "
        f"float64 only ({model.n_params:,} parameters)"
    )


def _retries(job: Job, model: CompiledModel, blueprint: Blueprint, why: str) -> list[Job]:
    """The jobs of rebuilds 1 to 4 that can change the model, in that order; ``why``: the
    reason their notes give."""
    capped = _capped(job, model)
    layout = blueprint.layout
    retries = []
    errors = _all_bounded(blueprint.memo.get(FLOAT32_ERRORS))
    if errors is not None and job.input_errors is None:  # the same model, its ramps placed for them
        retries.append(replace(capped, input_errors=errors))
    digits = f"{why}; {DIGITS_EXACT}"
    quadratic = any(h.quadratic is not None for h in layout.heads)
    if quadratic and job.digits is None:
        retries.append(replace(capped, all_digits=digits))
    # the program as lowered: dyck2's BOS-free width is a count there
    helps = _counts_read_computed(layout) and copies_help(blueprint.values.program)
    if job.copies is None and helps:  # with digits, as both are exact
        copied = replace(capped, copies=f"{why}; {COPIES_EXACT}")
        retries.append(replace(copied, all_digits=job.digits or digits) if quadratic else copied)
    if _combines_counts(layout) and job.decode_counts is None:
        retries.append(replace(capped, decode_counts=why))
    if quadratic and job.one_hot is None:
        one_hot = replace(capped, one_hot=f"{why}; {ONE_HOT_EXACT}")
        retries.append(one_hot)
        if any(r.decode_counts == why for r in retries):  # both: counts decoded, one-hot
            retries.append(replace(one_hot, decode_counts=why))
        if job.all_digits is None:  # digits, one-hot, and counts at their smallest B
            tight = f"{why}; {TIGHT_COUNTS}"
            retries.append(replace(one_hot, all_digits=job.digits or digits, tight_counts=tight))
    return retries


DIGITS_EXACT = "one-hot tests of digits are exact in any float type"
ONE_HOT_EXACT = "one-hot scores are exact in any type"
COPIES_EXACT = "a one-hot copied through ramps of slope 4 is exact in any float type"
TIGHT_COUNTS = (
    "a count's float32 rounding moves it by B + width times the weight's share, and this "
    "is the smallest B whose decoding is still a line"
)


def _counts_read_computed(layout: Layout) -> bool:
    """Whether some count head compares a one-hot an MLP computed (not a copy): a number
    would be copied as a number, with the errors of the MLP that copies it."""
    written = {m.output.key for m in layout.mlps if not _is_copy(layout, m.output)}
    return any(
        f.kind is Storage.ONE_HOT and f.key in written
        for h in layout.heads
        if h.kind == "count"
        for f in h.inputs.values()
    )


def _is_copy(layout: Layout, f: Feature) -> bool:
    node = layout.nodes.get(f.key[0])
    return isinstance(node, Map) and node.f is exact_copy


def _combines_counts(layout: Layout) -> bool:
    """Whether some MLP reads two counts' attention weights at once."""
    return any(sum(f.key[1] is View.COUNT_WEIGHT for f in m.leaves) >= 2 for m in layout.mlps)


class Candidate(NamedTuple):
    """A rebuild smaller than the first model that float32 does not prove, as built: what
    its float64 pass and random check need, run only where no rebuild is proved."""

    job: Job
    model: CompiledModel
    policy: Any
    blueprint: Blueprint


class Rebuilt(NamedTuple):
    """What one rebuild gave: the model if proved in float32, the seconds its bounds took,
    the float32 errors they found (where finite), and the rebuild if it is smaller than
    asked and not proved in float32."""

    proved: CompiledModel | None
    spent: float
    errors: Errors | None
    smaller: Candidate | None = None


def rebuilt(
    stages: Stages,
    retry: Job,
    fronts: Fronts,
    proving: tuple[int, float],
    smaller_than: int | None = None,
) -> Rebuilt:
    """The program compiled and certified in float32 as ``retry`` asks (:class:`Rebuilt`);
    a model with fewer than ``smaller_than`` parameters that float32 does not prove comes
    back as a :class:`Candidate` for :func:`_smallest_in_float64`."""
    limit, seconds = proving
    try:
        other, policy, found = stages.build(retry, [], fronts)
        found = replace(found, float32_first=True)  # the memo is shared: errors land in it
        proof = with_certificate(other, retry.program, limit, found, seconds).info.certificate
        spent = (proof.seconds or 0.0) if proof is not None else 0.0
        if proof is None or proof.dtype != "float32":
            errors = _placeable(retry, found.memo.get(FLOAT32_ERRORS))
            smaller = smaller_than is not None and other.n_params < smaller_than
            kept = Candidate(retry, other, policy, found) if smaller and proof else None
            return Rebuilt(None, spent, errors, kept)
        # proved: the random check then records its sample (a failed rebuild skips it;
        # at 1,024 positions it runs the model on dozens of long inputs)
        checked, _, again = stages.verified(retry, other, policy, found, fronts)
    except (CompileError, ResourceLimitError, MemoryError):
        return Rebuilt(None, 0.0, None)  # too big, or not buildable so: the first model stands
    if again is not found:  # the check built it again: the proof is of another model
        return Rebuilt(None, spent, None)
    return Rebuilt(replace(checked, info=replace(checked.info, certificate=proof)), spent, None)


def _placeable(retry: Job, errors: Errors | None) -> Errors | None:
    """The errors a rebuild's next pass places its ramps for: every one finite, or where
    every select is one-hot, the finite ones. A one-hot head scores exactly, so what its
    bounds leave open comes from ramps upstream that had no room, which the next pass
    places (causal dyck2 at 1,024); a head comparing numbers may stay open however its
    inputs' ramps are placed."""
    return _bounded(errors) if retry.one_hot is not None else _all_bounded(errors)


def _all_bounded(errors: Errors | None) -> Errors | None:
    """``errors`` where every bound is finite: the same model with its ramps placed for
    them could be proved (where one is not, that part of it stays unbounded)."""
    kept = _bounded(errors)
    return kept if kept is not None and len(kept) == len(errors or {}) else None


def _bounded(errors: Errors | None) -> Errors | None:
    """``errors`` of the directions whose bounds are finite (a rebuild can place its ramps
    for them; None if there are none). Where a sublayer has no bound, the directions it
    and later ones write have none either, but those written before it keep theirs:
    causal dyck2's level at 1,024, whose ramps placed for them take its digits' heads
    from unbounded to proved."""
    kept = {
        d: pair
        for d, pair in (errors or {}).items()
        if all(math.isfinite(x) and x < sys.float_info.max for x in pair)
    }
    return kept or None
