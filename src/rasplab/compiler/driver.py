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

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from typing import Any

from ..errors import CompileError, ResourceLimitError
from ..lang.nodes import SOp
from ..model.info import InputDomain, Verified
from ..model.model import CompiledModel
from .assemble import assemble
from .bounds import BOUNDS_SECONDS, Blueprint
from .budget import DEFAULT_MAX_BYTES, check_bytes, compile_bytes
from .causal import causal_blockers
from .certify import DEFAULT_PROVE_LIMIT, check_prove_limit, with_certificate
from .digits import DIGITS_ABOVE
from .encodings import AggregatePolicy
from .float32_rebuilds import Stages, float32_rebuilt, within_growth
from .front import Fronts, front_for
from .job import Job, Sampler, library_domain, make_job
from .limits import DEFAULT_MAX_SECONDS, check_seconds, checkpoint, compile_limits, seconds_left
from .margin_rebuilds import Kept, digit_tests, margin_rebuilt
from .planned import model_info, plan_layout
from .refusals import explained
from .sampled import (
    compare,
    disagreement,
    drift_message,
    exact_in_float64,
    float32_only,
    sampled_inputs,
)
from .size import (
    DEFAULT_MAX_PARAMS,
    check_max_params,
    check_params,
    early_estimate,
    layout_estimate,
    too_many_blockers,
)
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
        raise explained(err, job) from None
    return model


def _stages(job: Job, fronts: Fronts, proving: tuple[int, float], started: float) -> CompiledModel:
    """Stages 1-7, then more inputs where the certificate leaves float32 open
    (:mod:`.wider`). Where those find float32 drift, the program is built again with
    its wide equalities as digits, as after a failed first check, then with its selects
    of numbers one-hot, or refused."""
    built = _build(job, [], fronts)
    if not job.verify:
        return built[0]
    # 7. a certificate: every input of a domain of at most prove_limit inputs
    # compared, or bounds propagated through the weights for larger ones
    limit = check_prove_limit(proving[0])
    # the bounds end within the time limit (and run, if only to say they ran out)
    seconds = max(seconds_left(proving[1]), min(proving[1], 1e-3))
    job, (model, policy, blueprint) = _checked_and_proved(job, built, fronts, (limit, seconds))
    checked = wider_check(job, model, started)
    if checked.failed is None:
        return checked.model
    drift = float32_only(job, checked.model, checked.failed)
    if drift is None:
        raise CompileError(disagreement(checked.failed, policy))
    numbers, params = _compares_numbers(blueprint), model.n_params
    del model, blueprint, checked  # the rebuild need not hold the first model's memory
    if job.digits is None:  # its wide equalities as digits, as after a failed check
        return _stages(replace(job, all_digits=DIGITS_AFTER_CHECK), fronts, proving, started)
    found = f"{drift} (found by the check after the certificate"
    if job.one_hot is None and numbers:  # then its selects of numbers one-hot
        retry = replace(within_growth(job, params), one_hot=ONE_HOT_AFTER_CHECK)
        try:
            return _stages(retry, fronts, proving, started)
        except (CompileError, ResourceLimitError) as err:
            tried = str(err).splitlines()[0]
            found += f"; built again with its selects of numbers one-hot: {tried}"
    raise CompileError(found + ")")


CHECK_WAITS_FROM = 96  # from this max_seq_len on, the first model's check waits (_check_waits)


def _check_waits(job: Job, policy: AggregatePolicy, limit: int) -> bool:
    """Whether the first model's random check waits until its certificate and rebuilds
    are done (:func:`_proved`): from ``CHECK_WAITS_FROM`` positions on, where a check takes
    a second or more and most first models are rebuilt to be proved in float32, and the
    rebuild kept runs its own. Not where the check may plan again (an aggregate assumed to
    move one value: its failures are evidence), nor where the certificate enumerates the
    domain: there the check's findings and messages come first."""
    n, tokens = job.max_seq_len, len(job.vocab)
    listed = sum(tokens**k for k in range(1, n + 1)) <= limit
    return n >= CHECK_WAITS_FROM and not policy.assumptions and not listed


def _checked_and_proved(
    job: Job, built: Built, fronts: Fronts, proving: tuple[int, float]
) -> tuple[Job, Built]:
    """Stages 6 and 7: the random check, then the certificate and the rebuilds it asks for
    (:func:`_proved`); where the check waits (:func:`_check_waits`), the certificate first,
    and the check only of a first model that no rebuild replaced."""
    if not _check_waits(job, built[1], proving[0]):
        job, built = _checked(job, built, fronts)
    job, built = _proved(job, built, fronts, proving)
    if built[0].info.verified is not None:  # checked first, or a rebuild that checked itself
        return job, built
    job, checked = _checked(job, built, fronts)  # the first model, kept: now its check
    if checked[2] is built[2]:
        return job, checked
    return _proved(job, checked, fronts, proving)  # the check built it again: proved anew


def _proved(
    job: Job, built: Built, fronts: Fronts, proving: tuple[int, float]
) -> tuple[Job, Built]:
    """Stage 7 for ``built``: its certificate, then the rebuilds the certificate asks for
    (:mod:`.margin_rebuilds`, :mod:`.float32_rebuilds`), with the job of the model kept.

    The first model's random check may not have run yet: a rebuild that replaces it runs
    its own, and at 1,024 positions a check takes a second or more. A model that comes
    back unchecked (``info.verified`` None) is the first one. Where the check waits and
    the model has its digits (no margin rebuild), so does the certificate's float64 pass:
    a rebuild proved in float32 replaces the model without it."""
    limit, seconds = proving
    model, policy, blueprint = built
    waits = job.digits is not None and _check_waits(job, policy, limit)
    first = replace(blueprint, float32_first=True) if waits else blueprint  # the same memo
    model = with_certificate(model, job.program, limit, first, seconds)
    stages = Stages(_build, _verified)  # looked up now: a test may replace either
    # not proved even in float64 for a comparison of numbers: with digits (margin_rebuilds)
    kept = Kept(job, model, policy, blueprint, seconds)
    kept = margin_rebuilt(stages, kept, fronts, limit, _compares_numbers(blueprint))
    job, model, policy, blueprint, seconds = kept
    # proved in float64 only: built another way (float32_rebuilds.py)
    # (a rebuild comes back alone: the checks after this one read the first's blueprint)
    model = float32_rebuilt(stages, job, (model, blueprint), fronts, (limit, seconds), waits)
    return job, (model, policy, blueprint)


def _compares_numbers(blueprint: Blueprint) -> bool:
    """Whether some head compares numbers (a quadratic score), which one-hot would not."""
    return any(h.quadratic is not None for h in blueprint.layout.heads)


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
    """Stage 6 found the model exact in float64 only. Its message (where it drifts, from
    runs of the model on shorter inputs) is worked out when first read: most of these
    are caught by a rebuild that is exact, and never read."""

    def __init__(self, explain: str | Callable[[], str], exact: str) -> None:
        super().__init__("exact in float64 only")
        self.explain = explain
        self.exact = exact  # "k/n": sampled inputs exact in float32

    def __str__(self) -> str:
        if not isinstance(self.explain, str):
            self.explain = self.explain()
        return self.explain


Built = tuple[CompiledModel, AggregatePolicy, Blueprint]
DIGITS_AFTER_CHECK = (
    "chosen after the check: as first built, the model was exact in float64 only (a "
    "computed number drifted in float32 further than the head comparing it allows)"
)


def _checked(job: Job, built: Built, fronts: Fronts) -> tuple[Job, Built]:
    """Stage 6 (:func:`_verified`); where the model is exact in float64 only, the program
    built again with every wide equality of computed numbers tested as digits, one-hot
    tests exact in any float type (:mod:`.digits`), if that changes the model and is
    exact in float32; else with its selects of numbers one-hot, if that is. The job the
    model was built for comes back with it."""
    try:
        return job, _verified(job, *built, fronts)
    except _Float32Only as first:
        refusal = first  # its message is worked out only if it stands
        if job.all_digits is not None:
            raise CompileError(str(refusal)) from None
    tries: list[str] = []
    if job.digits is None:  # else the model has its digits already (DIGITS_FROM)
        retry = replace(job, all_digits=DIGITS_AFTER_CHECK)
        try:
            other = _build(retry, [], fronts)
        except (CompileError, ResourceLimitError) as err:
            tries.append(_as_digits(f"not built: {str(err).splitlines()[0]}"))
        else:
            if digit_tests(other[0]) > digit_tests(built[0]):  # else the same model again
                found = _tried(retry, other, fronts)
                if not isinstance(found, str):
                    return retry, found
                tries.append(_as_digits(found))
    if job.one_hot is None and _compares_numbers(built[2]):
        one_hot = replace(within_growth(job, built[0].n_params), one_hot=ONE_HOT_AFTER_CHECK)
        try:
            found = _tried(one_hot, _build(one_hot, [], fronts), fronts)
        except (CompileError, ResourceLimitError) as err:
            found = f"not built: {str(err).splitlines()[0]}"
        if not isinstance(found, str):
            return one_hot, found
        tries.append(f"built again with its selects of numbers one-hot: {found}")
    if not tries:
        raise CompileError(str(refusal)) from None
    # the first refusal stands, with what was tried
    raise CompileError(f"{refusal}\n  ({'; '.join(tries)})") from None


ONE_HOT_AFTER_CHECK = (
    "chosen after the check: as first built, the model was exact in float64 only (a "
    "computed number compared as a number drifted in float32); one-hot tests are exact "
    "in any float type"
)


def _as_digits(tried: str) -> str:
    return (
        f"built again with its equalities of computed integers over {DIGITS_ABOVE} values "
        f"tested as digits: {tried}"
    )


def _tried(job: Job, built: Built, fronts: Fronts) -> Built | str:
    """``built`` with its check recorded, or what the check found instead."""
    try:
        return _verified(job, *built, fronts)
    except _Float32Only as again:
        return f"exact in float64 only again ({again.exact} sampled inputs in float32)"
    except (CompileError, ResourceLimitError) as err:
        return f"refused: {str(err).splitlines()[0]}"


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
        if exact_in_float64(job, model, result):
            explain = partial(drift_message, job, model, result)
            raise _Float32Only(explain, f"{result.n_exact}/{result.n_inputs}")
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
    front = front_for(job, evidence, fronts)
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
