"""The driver: RASP program in, exact transformer out, in six stages.

1. value sets (:mod:`~rasplab.compiler.value_sets`): the values every s-op can hold;
2. encodings (:mod:`~rasplab.compiler.encodings`, the aggregate policy): whether each
   aggregate moves one value or averages;
3. lower (:mod:`~rasplab.compiler.lower`): rewrites that keep every value;
4. layout (``plan``): what is stored, who writes it, in which layer;
5. blocks + assemble: dense weights;
6. verify (:mod:`~rasplab.compiler.verify`): the model against the evaluator.

>>> from rasplab import tokens, indices, length, select, aggregate
>>> reverse = aggregate(select(indices, length - indices - 1, "=="), tokens)
>>> model = compile_program(reverse, vocab="abc", max_seq_len=8)
>>> model("abca")
['a', 'c', 'b', 'a']
>>> model.heads_per_layer
(1, 1)
>>> model.info.domain.kind, model.info.verified.exact
('all', True)
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ..errors import CompileError, ResourceLimitError
from ..lang.nodes import SOp
from ..model.info import InputDomain, Verified
from ..model.model import CompiledModel
from .assemble import assemble
from .bounds import BOUNDS_SECONDS, FLOAT32_ERRORS, Blueprint
from .budget import DEFAULT_MAX_BYTES, check_bytes, compile_bytes
from .causal import causal_blockers, causal_hint
from .certify import DEFAULT_PROVE_LIMIT, check_prove_limit, with_certificate
from .digits import DIGITS_ABOVE
from .encodings import AggregatePolicy
from .front import Fronts, front_of
from .input_errors import Errors
from .job import Job, Sampler, library_domain, make_job
from .layout import Layout
from .limits import DEFAULT_MAX_SECONDS, check_seconds, checkpoint, compile_limits, seconds_left
from .listable import listable_hint
from .planned import model_info, plan_layout
from .sampled import compare, disagreement, float32_only, sampled_inputs
from .size import (
    DEFAULT_MAX_PARAMS,
    check_max_params,
    check_params,
    early_estimate,
    layout_estimate,
    too_many_blockers,
)
from .storage import View
from .triangles import triangle_note
from .wider import wider_check

__all__ = [
    "compile_program",
    "compile_with_blueprint",
    "library_domain",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_PARAMS",
]


def compile_program(
    program: SOp,
    vocab: Sequence[Any],
    max_seq_len: int,
    causal: bool = False,
    verify: int = 64,
    *,
    sample: Sampler | None = None,
    seed: int = 0,
    domain: InputDomain | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    max_params: int | None = DEFAULT_MAX_PARAMS,
    prove_limit: int = DEFAULT_PROVE_LIMIT,
    bounds_seconds: float = BOUNDS_SECONDS,
    max_seconds: float | None = DEFAULT_MAX_SECONDS,
) -> CompiledModel:
    """Compile ``program`` for inputs over ``vocab`` of length 1..``max_seq_len``.

    ``verify`` random inputs (drawn by ``sample(rng, n)`` if given) are run
    through the model and the evaluator; any difference raises CompileError,
    and so does a check in which the evaluator rejected every input (it
    compared nothing). ``verify=0`` skips the check. A program that cannot be
    compiled exactly raises one CompileError listing every blocker.

    The model is exact on every input (``model.info.domain.kind == "all"``)
    unless the compiler had to assume something of the inputs (see
    ``model.info.assumptions``) and checked it only on ``sample``'s inputs (or
    not at all): then the domain is ``"declared"``: ``domain`` if given (an
    :class:`~rasplab.model.info.InputDomain` describing what ``sample``
    draws; every verification input must lie inside its pattern), else the
    library's declaration when ``sample`` is a library program's ``sample``
    (:func:`library_domain`), else a description naming the sampler.

    ``max_bytes`` bounds the memory of the largest arrays (None: no bound); a
    compile that would need more raises ResourceLimitError before allocating.
    ``max_params`` bounds the parameter count (None: no bound): a model estimated
    larger (from the value sets, then from the plan, before any weight is built)
    is refused with a ResourceLimitError naming the s-op that makes it large.
    ``prove_limit``: with ``verify``, a domain of at most this many inputs is enumerated
    and the model proved exact on all of them (``model.info.certificate``; 0 never); a
    larger one is proved by bounds propagated through the weights
    (:mod:`~rasplab.compiler.bounds`) where they suffice, and says what is open where not.
    The bounds stop after ``bounds_seconds`` (what is left stays open; 0 skips them).
    ``max_seconds`` bounds the whole compile (None: no bound): past it, or past
    ``max_bytes`` of memory grown since it started, it stops with a ResourceLimitError
    naming the stage (:mod:`.limits`); the bounds end early to stay within it.
    """
    start = time.perf_counter()
    job = make_job(program, vocab, max_seq_len, causal, verify, sample, seed, domain, max_bytes)
    job = replace(job, max_params=check_max_params(max_params))
    check_bytes(compile_bytes(program, max_seq_len), job.max_bytes, program.label, max_seq_len)
    seconds = check_seconds(max_seconds)
    with compile_limits(program.label, max_seq_len, seconds, job.max_bytes):
        model = _compiled(job, prove_limit, bounds_seconds)
    seconds = round(time.perf_counter() - start, 4)
    return replace(model, info=replace(model.info, compile_seconds=seconds))


def _compiled(job: Job, prove_limit: int, bounds_seconds: float) -> CompiledModel:
    """Stages 1-7 within the compile's limits; a refusal for size says why, with a hint."""
    program, max_seq_len = job.program, job.max_seq_len
    fronts: Fronts = {}
    try:
        model = _stages(job, fronts, (prove_limit, bounds_seconds), time.perf_counter())
    except MemoryError as err:  # the bound above is a lower bound: the rest may still not fit
        raise ResourceLimitError(
            f"compiling {program.label} at max_seq_len {max_seq_len} ran out of memory "
            f"({err}); compile for a smaller max_seq_len"
        ) from None
    except (CompileError, ResourceLimitError) as err:
        raise _explained(err, job) from None
    return model


def _stages(job: Job, fronts: Fronts, proving: tuple[int, float], started: float) -> CompiledModel:
    """Stages 1-7, then more inputs where the certificate leaves float32 open
    (:mod:`.wider`). Where those find float32 drift, the program is built again with
    its wide equalities as digits, as after a failed first check, or refused."""
    model, policy, blueprint = _build(job, [], fronts)
    if not job.verify:
        return model
    job, (model, policy, blueprint) = _checked(job, (model, policy, blueprint), fronts)
    # 7. a certificate: every input of a domain of at most prove_limit inputs
    # compared, or bounds propagated through the weights for larger ones
    limit = check_prove_limit(proving[0])
    # the bounds end within the time limit (and run, if only to say they ran out)
    seconds = max(seconds_left(proving[1]), min(proving[1], 1e-3))
    model = with_certificate(model, job.program, limit, blueprint, seconds)
    model = _float32_retries(job, (model, blueprint), fronts, limit, seconds)
    checked = wider_check(job, model, started)
    if checked.failed is None:
        return checked.model
    drift = float32_only(job, checked.model, checked.failed)
    if drift is None:
        raise CompileError(disagreement(checked.failed, policy))
    del model, blueprint, checked  # the rebuild need not hold the first model's memory
    if job.all_digits is None:
        return _stages(replace(job, all_digits=DIGITS_AFTER_CHECK), fronts, proving, started)
    raise CompileError(f"{drift} (found by the check after the certificate)")


def _explained(err: CompileError | ResourceLimitError, job: Job) -> Exception:
    """A refusal for size (parameters, one-hot directions, too many values) with why:
    where a head compares positions by order (triangles.py); for a program that reads
    its prefix and was refused for parameters or one-hot width, that a decoder needs no
    position for it (a refusal for too many values stands either way, as a decoder has
    the same value sets: causal_hint says nothing new there); for too many values, the
    longest max_seq_len found at which they can be listed (listable.py)."""
    blockers = err.blockers if isinstance(err, CompileError) else ()
    sized = not isinstance(err, CompileError) or any("one-hot" in b for b in blockers)
    many = any("too many distinct values" in b for b in blockers)
    hint = causal_hint(job.program, job.max_seq_len) if sized and not job.causal else None
    why = triangle_note(job.program, job.max_seq_len, job.causal) if sized or many else None
    length = listable_hint(job) if many else None
    notes = (("why", why), ("hint", hint), ("length", length))
    if all(v is None for _, v in notes):
        return err
    text = str(err) + "".join(f"\n  {k}: {v}" for k, v in notes if v)
    if isinstance(err, CompileError):
        return CompileError(text, blockers=err.blockers)
    return ResourceLimitError(text)


def compile_with_blueprint(
    program: SOp, vocab: Sequence[Any], max_seq_len: int, causal: bool = False
) -> tuple[CompiledModel, Blueprint]:
    """Stages 1-5 only (no check, no certificate): the model ``compile_program(...,
    verify=0)`` returns, with the layout and value sets it was assembled from, for
    :func:`~rasplab.compiler.certify.certify` to prove it (or an edited copy) by bounds.

    >>> from rasplab.library import reverse
    >>> model, blueprint = compile_with_blueprint(reverse(), "ab", 4)
    >>> len(blueprint.layout.heads) == sum(model.heads_per_layer)
    True
    """
    job = make_job(program, vocab, max_seq_len, causal, 0, None, 0, None, DEFAULT_MAX_BYTES)
    model, _, blueprint = _build(job, evidence=[])
    return model, blueprint


class _Float32Only(CompileError):
    """Stage 6 found the model exact in float64 only (its message says where it drifts)."""

    def __init__(self, message: str, exact: str) -> None:
        super().__init__(message)
        self.exact = exact  # "k/n": sampled inputs exact in float32


Built = tuple[CompiledModel, AggregatePolicy, Blueprint]
DIGITS_AFTER_CHECK = (
    "chosen after the check: as first built, the model was exact in float64 only (a "
    "computed number drifted in float32 further than the head comparing it allows)"
)


def _checked(job: Job, built: Built, fronts: Fronts) -> tuple[Job, Built]:
    """Stage 6 (:func:`_verified`); where the model is exact in float64 only, the program
    built again with every wide equality of computed numbers tested as digits, one-hot
    tests exact in any float type (:mod:`.digits`), if that changes the model and is
    exact in float32. The job the model was built for comes back with it."""
    try:
        return job, _verified(job, *built, fronts)
    except _Float32Only as first:
        refusal = CompileError(str(first))
        if job.all_digits is not None:
            raise refusal from None
    retry = replace(job, all_digits=DIGITS_AFTER_CHECK)
    try:
        other = _build(retry, [], fronts)
    except (CompileError, ResourceLimitError) as err:
        tried = f"not built: {str(err).splitlines()[0]}"
    else:
        if _digit_tests(other[0]) <= _digit_tests(built[0]):
            raise refusal from None  # nothing more to test as digits: the same model again
        try:
            return retry, _verified(retry, *other, fronts)
        except _Float32Only as again:
            tried = f"exact in float64 only again ({again.exact} sampled inputs in float32)"
        except (CompileError, ResourceLimitError) as err:
            tried = f"refused: {str(err).splitlines()[0]}"
    raise CompileError(  # the first refusal stands, with what was tried
        f"{refusal}\n  (built again with its equalities of computed integers over "
        f"{DIGITS_ABOVE} values tested as digits: {tried})"
    ) from None


def _digit_tests(model: CompiledModel) -> int:
    return sum("tested as two digits" in note for note in model.info.notes)


def _verified(
    job: Job,
    model: CompiledModel,
    policy: AggregatePolicy,
    blueprint: Blueprint,
    fronts: Fronts | None = None,
) -> tuple[CompiledModel, AggregatePolicy, Blueprint]:
    """Stage 6: the model with its check recorded; CompileError if it compared nothing or
    disagrees. Plans again at most once, with the inputs it failed on as evidence."""
    inputs = sampled_inputs(job, model)
    result = compare(job, model, inputs)
    if not result.exact and policy.assumptions:
        # an aggregate assumed to move one value may have averaged on these inputs
        model, policy, blueprint = _build(job, [m.input for m in result.mismatches], fronts)
        result = compare(job, model, inputs)
    if not result.exact:
        rounding = float32_only(job, model, result)
        if rounding is not None:
            raise _Float32Only(rounding, f"{result.n_exact}/{result.n_inputs}")
        raise CompileError(disagreement(result, policy))
    checked = Verified(result.n_inputs, result.n_exact, result.n_rejected, result.dtype)
    return replace(model, info=replace(model.info, verified=checked)), policy, blueprint


EARLY_CAUSAL_REFUSAL = 128  # past this max_seq_len a causal blocker stops a compile at once


def _build(
    job: Job, evidence: list[list[Any]], fronts: Fronts | None = None
) -> tuple[CompiledModel, AggregatePolicy, Blueprint]:
    """Stages 1-5: the compiled model, the policy that chose what each aggregate does, and
    the layout and value sets the model was assembled from (stage 7's bounds read them).
    ``fronts`` keeps stages 1-3 for another build of the same program."""
    # a program no causal mask can run is refused before its value sets where those take
    # seconds to minutes (long lengths); shorter ones list every stage's blockers at once
    blockers = causal_blockers(job.program, job.max_seq_len) if job.causal else []
    if blockers and job.max_seq_len > EARLY_CAUSAL_REFUSAL:
        err = CompileError.from_blockers(blockers)
        raise CompileError(
            f"{err}\n  (the rest of the program is checked once these are fixed: at "
            f"max_seq_len {job.max_seq_len} that takes long; compile for max_seq_len "
            f"{EARLY_CAUSAL_REFUSAL} to see every blocker at once)",
            blockers=err.blockers,
        )
    key = (job.all_digits is not None, tuple(tuple(xs) for xs in evidence))
    front = fronts.get(key) if fronts is not None else None
    if front is None:
        front = front_of(job, evidence)
        if fronts is not None:
            fronts[key] = front
    checkpoint("the plan (stage 4)")
    program, vocab, n = job.program, job.vocab, job.max_seq_len
    lowered, values = front.lowered, front.values
    if job.causal:  # now with the value sets, which decide the comparisons of ranks
        blockers = causal_blockers(program, n, values, lowered.origin)
    check_params(early_estimate(lowered.program, values, lowered.origin), job.max_params, n)
    # 4. layout (plan): what is stored, who writes it, in which layer (exact MLPs built here)
    too_many = too_many_blockers(lowered.program, values, lowered.origin, n)
    if too_many:
        raise CompileError.from_blockers(blockers + too_many)
    layout = plan_layout(lowered, values, job, blockers)
    check_params(layout_estimate(layout, len(vocab), n), job.max_params, n)
    # 5. blocks + assemble: dense weights
    checkpoint("assembling the weights (stage 5)")
    info = model_info(program, lowered.notes, layout, front.policy, job)
    model = assemble(layout, lowered.program, vocab, n, job.causal, info)
    return model, front.policy, Blueprint(layout, values, lowered.origin)


ONE_HOT_GROWTH = 4  # a model rebuilt to be proved in float32 may have this many times the params


def _float32_retries(
    job: Job, built: tuple[CompiledModel, Blueprint], fronts: Fronts, limit: int, seconds: float
) -> CompiledModel:
    """The model, or, where the bounds prove it in float64 only, the same program built
    another way if the bounds prove that one in float32 and it has at most
    ``ONE_HOT_GROWTH`` times the parameters: its MLPs' ramps placed to leave room for
    the float32 errors the first bounds found (:mod:`.input_errors`; the same size),
    its counts decoded to numbers before an MLP
    combines them (each count's rounding then stays within its own gap), its selects
    of positions one-hot (their scores are exact in any float type; the numbers'
    rounding can grow through the MLPs that compute them), or both of the last two.
    Stages 1-3 are not run again, and the rebuilds' bounds share what the first
    certificate left of ``seconds``."""
    model, blueprint = built
    proof = model.info.certificate
    if proof is None or proof.dtype != "float64":
        return model
    why = "chosen after the certificate: as first built the bounds prove the model in "
    why += f"float64 only ({model.n_params:,} parameters)"
    cap = ONE_HOT_GROWTH * model.n_params
    capped = replace(job, max_params=min(job.max_params or cap, cap))
    layout = blueprint.layout
    retries = []
    errors = _bounded(blueprint.memo.get(FLOAT32_ERRORS))
    if errors is not None and job.input_errors is None:  # the same model, its ramps placed for them
        retries.append(replace(capped, input_errors=errors))
    if _combines_counts(layout) and job.decode_counts is None:
        retries.append(replace(capped, decode_counts=why))
    if any(h.quadratic is not None for h in layout.heads) and job.one_hot is None:
        one_hot = replace(capped, one_hot=f"{why}; one-hot scores are exact in any type")
        retries.append(one_hot)
        if any(r.decode_counts == why for r in retries):  # both: counts decoded, one-hot
            retries.append(replace(one_hot, decode_counts=why))
    # the rebuilds' bounds share what is left, within the compile's time limit
    left = seconds_left(seconds - (proof.seconds or 0.0))
    for retry in retries:
        if left < 1.0:
            break
        other, spent, errors = _rebuilt(retry, fronts, limit, left)
        left -= spent
        if other is None and errors is not None and retry.input_errors is None and left >= 1.0:
            # the rebuild is nearer: its own errors may leave its ramps room enough
            other, spent, _ = _rebuilt(replace(retry, input_errors=errors), fronts, limit, left)
            left -= spent
        if other is not None:
            return other
    return model


def _combines_counts(layout: Layout) -> bool:
    """Whether some MLP reads two counts' attention weights at once."""
    return any(sum(f.key[1] is View.COUNT_WEIGHT for f in m.leaves) >= 2 for m in layout.mlps)


def _rebuilt(
    retry: Job, fronts: Fronts, limit: int, seconds: float
) -> tuple[CompiledModel | None, float, Errors | None]:
    """The program compiled and certified as ``retry`` asks, if proved in float32 (else
    None), the seconds its bounds took, and the float32 errors they found (where finite)."""
    try:
        other, policy, found = _build(retry, [], fronts)
        if any(m.spec.crossed for m in found.layout.mlps):
            return None, 0.0, None  # ramps the errors leave no room: not proved in float32
        other, _, found = _verified(retry, other, policy, found, fronts)
        found = replace(found, float32_first=True)  # the memo is shared: errors land in it
        other = with_certificate(other, retry.program, limit, found, seconds)
    except (CompileError, ResourceLimitError, MemoryError):
        return None, 0.0, None  # too big, or not buildable so: the float64 proof stands
    proof = other.info.certificate
    spent = (proof.seconds or 0.0) if proof is not None else 0.0
    if proof is not None and proof.dtype == "float32":
        return other, spent, None
    return None, spent, _bounded(found.memo.get(FLOAT32_ERRORS))


def _bounded(errors: Errors | None) -> Errors | None:
    """``errors`` where every bound is finite (a rebuild can place its ramps for them)."""
    if errors and all(math.isfinite(x) for pair in errors.values() for x in pair):
        return errors
    return None
