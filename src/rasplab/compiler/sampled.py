"""Stage 6: the compiled model against the evaluator on random inputs of its domain.

A check that compares nothing has failed (every input rejected by the
evaluator), inputs outside the vocabulary or the declared domain are the
sampler's mistake and are named, and a model wrong only in float32 is told
apart from a wrong construction.

>>> from rasplab.library import get
>>> from rasplab.compiler.driver import compile_program
>>> from rasplab.compiler.job import make_job
>>> entry = get("reverse")
>>> job = make_job(entry.build(), "abc", 6, False, 20, None, 0, None, None)
>>> model = compile_program(job.program, "abc", 6, verify=0)
>>> compare(job, model, sampled_inputs(job, model)).exact
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import CompileError
from ..lang.graph import value_key
from ..model.model import CompiledModel
from .budget import check_bytes, forward_bytes
from .drift import first_drift, float32_reach
from .encodings import AggregatePolicy, sample_inputs
from .job import Job
from .limits import checkpoint
from .verify import Verification, answers
from .verify import verify as check_model

__all__ = [
    "sampled_inputs",
    "compare",
    "float32_only",
    "exact_in_float64",
    "drift_message",
    "disagreement",
]


def compare(job: Job, model: CompiledModel, inputs: list[list[Any]]) -> Verification:
    """The model against the evaluator on ``inputs``; CompileError if it compared nothing."""
    checkpoint("the check against the evaluator (stage 6)")
    # the evaluator's answers, once per job and its rebuilds (a rebuild checks the same
    # inputs); a causal compile refused any selector that may pick a later key
    # (causal_blockers), so each input is evaluated once, not per prefix
    key = tuple(tuple(map(value_key, xs)) for xs in inputs)
    if key not in job.answers:
        job.answers[key] = answers(job.program, inputs, model.causal, looks_back=job.causal)
    want = job.answers[key]
    result = check_model(model, job.program, inputs=inputs, looks_back=job.causal, expected=want)
    if result.n_inputs == 0:
        raise CompileError(
            f"cannot verify {job.program.label}: the evaluator rejected all {len(inputs)} "
            f"sampled inputs; the first: {result.first_rejection}. A check that compares "
            "nothing proves nothing: fix the program, give a sampler (sample=) that draws "
            "inputs it accepts, or skip the check with verify=0"
        )
    return result


def sampled_inputs(job: Job, model: CompiledModel) -> list[list[Any]]:
    """The random inputs of stage 6, inside the declared domain, within the memory limit."""
    inputs = sample_inputs(job.vocab, job.max_seq_len, job.verify, job.seed, job.sample)
    known = set(map(value_key, job.vocab))
    stray = next((xs for xs in inputs if not set(map(value_key, xs)) <= known), None)
    if stray is not None:
        token = next(t for t in stray if value_key(t) not in known)
        raise CompileError(
            f"the sampler drew {stray!r}, whose token {token!r} is not in the vocabulary "
            f"{list(job.vocab)!r}: compile with the vocabulary the sampler draws from, or "
            "give a sampler (sample=) that draws from this one"
        )
    if job.domain is not None:
        outside = next((xs for xs in inputs if job.domain.contains(xs) is False), None)
        if outside is not None:
            raise CompileError(
                f"the sampler drew {outside!r}, outside the declared domain "
                f"({job.domain.description}; pattern {job.domain.pattern!r}): the sampler "
                "and the domain disagree"
            )
    longest = max(len(xs) for xs in inputs) + 1  # with BOS
    heads = max(model.heads_per_layer, default=0)
    need = forward_bytes(longest, model.d_model, heads, itemsize=4)
    check_bytes(need, job.max_bytes, job.program.label, job.max_seq_len)
    return inputs


def float32_only(job: Job, model: CompiledModel, result: Verification) -> str | None:
    """Where the model is exact in float64 on every input float32 got wrong, the message
    says so: float32 rounding, not a wrong construction (None otherwise). It names the
    part of the model where the drift becomes an error and the lengths float32 got right."""
    return drift_message(job, model, result) if exact_in_float64(job, model, result) else None


def exact_in_float64(job: Job, model: CompiledModel, result: Verification) -> bool:
    """Whether float32 got some inputs wrong and float64 gets every one of them right."""
    wrong = [m.input for m in result.mismatches]
    if not wrong or result.dtype != "float32":
        return False
    checkpoint("the float64 check of the inputs float32 got wrong (stage 6)")
    wide = check_model(model, job.program, inputs=wrong, dtype=np.float64, looks_back=job.causal)
    return wide.exact


def drift_message(job: Job, model: CompiledModel, result: Verification) -> str:
    """:func:`float32_only`'s message, for a model :func:`exact_in_float64` found so. It
    runs the model again on the shorter inputs, so a caller that may rebuild the model
    asks for it only once the refusal stands."""
    wrong = [m.input for m in result.mismatches]
    checkpoint("the lengths float32 got right and where it drifts (stage 6)")
    inputs = sampled_inputs(job, model)
    reach = float32_reach(model, job.program, inputs, min(map(len, wrong)), job.causal)
    drift = first_drift(model, [*map(list, reach.wrong), *wrong])
    where = (
        str(drift)
        if drift is not None
        else "a number one layer computes (a count, or a position made from one) drifts in "
        "float32 further than the layer reading it allows"
    )
    return (
        f"{job.program.label}: the compiled model is exact in float64 but not in float32 at "
        f"max_seq_len {job.max_seq_len} ({result.n_exact}/{result.n_inputs} sampled inputs "
        f"exact in float32; the first it got wrong are exact in float64): {where}. {reach}"
    )


def disagreement(result: Verification, policy: AggregatePolicy) -> str:
    if policy.assumptions:
        lines = "\n".join(f"  - {a}" for a in policy.assumptions.values())
        return (
            "the compiled model disagrees with the evaluator, and it was compiled on these "
            f"assumptions:\n{lines}\n{result}"
        )
    return (
        "the compiled model disagrees with the evaluator (a compiler bug, please "
        f"report it with this program):\n{result}"
    )
