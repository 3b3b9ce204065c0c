"""After the certificate: more random inputs for a model it leaves open in float32.

Stage 6 compares 64 inputs. A model that drifts in float32 on one input in a
hundred passes that check about half the time: causal dyck2 at 1,024 did, then
got 9 of 1,000 inputs wrong (every one of them right in float64). Where the
certificate proves the model in float32 there is nothing more to learn; where
it does not, up to ``WIDER_INPUTS`` more inputs are compared, a block at a time,
within a share of the time the compile has taken (at least ``WIDER_SECONDS``)
and within its time limit. Their count joins the check's in the model's
report, and an input they get wrong stops the compile as the first check would.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

from ..model.info import Verified
from ..model.model import CompiledModel
from .encodings import sample_inputs
from .job import Job
from .limits import seconds_left
from .sampled import compare
from .verify import Verification

__all__ = ["Wider", "wider_check", "WIDER_INPUTS", "WIDER_SECONDS", "WIDER_SHARE"]

WIDER_INPUTS = 436  # more inputs at most: 500 with the first 64
WIDER_SECONDS = 2.0  # the least time they may take
WIDER_SHARE = 0.25  # the most they may take: this share of the compile's time so far


@dataclass(frozen=True)
class Wider:
    model: CompiledModel  # its report counting the inputs compared
    failed: Verification | None  # the block with an input the model got wrong


def wider_check(job: Job, model: CompiledModel, started: float) -> Wider:
    """Compare the model with the evaluator on more inputs where the certificate leaves
    float32 open (``started``: the compile's start, on ``time.perf_counter``)."""
    proof, checked = model.info.certificate, model.info.verified
    if checked is None or (proof is not None and proof.status == "proved"):
        return Wider(model, None)
    spent = time.perf_counter() - started
    deadline = time.perf_counter() + seconds_left(max(WIDER_SECONDS, WIDER_SHARE * spent))
    inputs = sample_inputs(job.vocab, job.max_seq_len, WIDER_INPUTS, job.seed + 1, job.sample)
    block = 64  # inputs compared at a time: the time limit is looked at between blocks
    n_inputs, n_exact, n_rejected = checked.n_inputs, checked.n_exact, checked.n_rejected
    for start in range(0, len(inputs), block):
        if time.perf_counter() > deadline:
            break
        found = compare(job, model, _listed(inputs[start : start + block]))
        n_inputs, n_exact = n_inputs + found.n_inputs, n_exact + found.n_exact
        n_rejected += found.n_rejected
        if not found.exact and found.n_inputs:
            return Wider(model, found)
    wider = Verified(n_inputs, n_exact, n_rejected, checked.dtype)
    return Wider(replace(model, info=replace(model.info, verified=wider)), None)


def _listed(inputs: list[Any]) -> list[list[Any]]:
    return [list(xs) for xs in inputs]
