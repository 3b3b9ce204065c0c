"""Stage 4 and the model's description, for the driver: the layout the cost model
chooses, with the blockers of every stage in one error, and the ``ModelInfo`` a
model carries (its notes say what was chosen and why).

>>> from rasplab.library import get
>>> from rasplab.compiler.front import front_of
>>> from rasplab.compiler.job import make_job
>>> job = make_job(get("reverse").build(), "abc", 8, False, 0, None, 0, None, None)
>>> front = front_of(job, [])
>>> layout = plan_layout(front.lowered, front.values, job, [])  # length's head, reverse's
>>> len(layout.heads), model_info(job.program, (), layout, front.policy, job).attention_layers
(2, 2)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..analysis import analyse
from ..errors import CompileError
from ..lang.nodes import SOp
from ..model.info import ModelInfo
from .cost import choose_numbers
from .encodings import AggregatePolicy
from .job import Job, covered_domain
from .layout import Layout
from .lower import Lowered
from .mlp import decodable_scale

__all__ = ["plan_layout", "model_info"]


def plan_layout(lowered: Lowered, values: Any, job: Job, blockers: list[str]) -> Layout:
    """Plan the layers, each select of positions as numbers or one-hot as the cost model
    chooses (or one-hot, for the reason ``job.one_hot``); merge the planner's blockers
    with earlier ones into one error."""
    try:
        layout = choose_numbers(
            lowered.program,
            values,
            job.max_seq_len,
            len(job.vocab),
            job.max_params,
            lowered.count_scales,
            job.one_hot,
            job.causal,
            job.decode_counts is not None,
            job.input_errors,
            decodable_scale(job.max_seq_len) if job.tight_counts is not None else None,
        )
    except CompileError as err:
        if not blockers:
            raise
        raise CompileError.from_blockers(blockers + list(err.blockers)) from None
    if blockers:
        raise CompileError.from_blockers(blockers)
    return layout


def _retry_notes(job: Job) -> list[str]:
    notes = []
    if job.input_errors is not None:
        notes.append(
            "MLP ramps placed to leave room for the float32 errors that the bounds found "
            "in their inputs as first built (there the model was proved in float64 only)"
        )
    if job.decode_counts is not None:
        notes.append(f"counts decoded to numbers before they are combined: {job.decode_counts}")
    if job.tight_counts is not None:
        scale = decodable_scale(job.max_seq_len)
        notes.append(f"counts stored as B / (B + width) with B = {scale:g}: {job.tight_counts}")
    return notes


def model_info(
    program: SOp, notes: Sequence[str], layout: Layout, policy: AggregatePolicy, job: Job
) -> ModelInfo:
    paper = analyse(program)
    return ModelInfo(
        program=program.label,
        causal=job.causal,
        analysis_layers=paper.n_layers,
        analysis_heads=tuple(paper.heads_per_layer),
        attention_layers=len({h.block for h in layout.heads}),
        notes=tuple(dict.fromkeys([*notes, *layout.notes, *_retry_notes(job)])),
        assumptions=tuple(policy.assumptions.values()),
        domain=covered_domain(job, policy),
    )
