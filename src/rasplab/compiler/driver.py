"""The compiler driver: RASP program in, exact transformer out.

>>> from rasplab import tokens, indices, length, select, aggregate
>>> reverse = aggregate(select(indices, length - indices - 1, "=="), tokens)
>>> model = compile_program(reverse, vocab="abc", max_seq_len=8)
>>> model("abca")
['a', 'c', 'b', 'a']
>>> model.heads_per_layer
(1, 1)
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from ..analysis import analyse
from ..errors import CompileError
from ..lang.graph import value_key
from ..lang.nodes import SOp, is_atom
from ..model.info import ModelInfo, Verified
from ..model.model import CompiledModel
from .assemble import assemble
from .causal import causal_blockers
from .encodings import AggregatePolicy
from .layout import Layout, plan
from .lower import Lowered, lower
from .value_sets import infer
from .verify import Verification
from .verify import verify as check_model

__all__ = ["compile_program"]

Sampler = Callable[[random.Random, int], list[Any]]


def compile_program(
    program: SOp,
    vocab: Sequence[Any],
    max_seq_len: int,
    causal: bool = False,
    verify: int = 64,
    *,
    sample: Sampler | None = None,
    seed: int = 0,
) -> CompiledModel:
    """Compile ``program`` for inputs over ``vocab`` of length 1..``max_seq_len``.

    ``verify`` random inputs (drawn by ``sample(rng, n)`` if given) are run
    through the model and the evaluator; any difference raises CompileError,
    so a returned model is never silently wrong on them. ``verify=0`` skips
    that check. A program that cannot be compiled exactly raises one
    CompileError listing every blocker and how to fix it.
    """
    start = time.perf_counter()
    vocab = _check(program, vocab, max_seq_len)
    evidence: list[list[Any]] = []
    while True:
        model, policy = _build(program, vocab, max_seq_len, causal, sample, seed, evidence)
        seconds = round(time.perf_counter() - start, 4)
        model = replace(model, info=replace(model.info, compile_seconds=seconds))
        if not verify:
            return model
        result = check_model(model, program, verify, seed=seed, sample=sample)  # 6. the check
        checked = Verified(result.n_inputs, result.n_exact, dtype=result.dtype)
        model = replace(model, info=replace(model.info, verified=checked))
        if result.exact:
            return model
        if policy.assumptions and not evidence:
            # an aggregate assumed to move one value may have averaged on these inputs:
            # plan again with them as evidence (once)
            evidence = [m.input for m in result.mismatches]
            continue
        raise CompileError(_disagreement(result, policy))


def _build(
    program: SOp,
    vocab: tuple[Any, ...],
    max_seq_len: int,
    causal: bool,
    sample: Sampler | None,
    seed: int,
    evidence: list[list[Any]],
) -> tuple[CompiledModel, AggregatePolicy]:
    """Stages 1-5: the compiled model, and the policy that chose what each aggregate does."""
    policy = AggregatePolicy(program, vocab, max_seq_len, sample, seed=seed, evidence=evidence)
    # 1-2. value sets per position; the policy decides which aggregates average
    original = infer(program, vocab, max_seq_len, policy)
    # 3. rewrites that keep every value but that later stages can build
    lowered = lower(program, original)
    policy.origin.update({new: old.id for new, old in lowered.origin.items()})
    values = original
    if lowered.program is not program:  # rebuilt nodes over unchanged inputs keep their sets
        values = infer(lowered.program, vocab, max_seq_len, policy, original, lowered.origin)
    # 4. what is stored, who writes it, in which layer (exact MLPs built here)
    blockers = causal_blockers(program, max_seq_len) if causal else []
    layout = _plan(lowered, values, max_seq_len, blockers)
    # 5. dense weights
    info = _info(program, lowered.notes, layout, policy, causal)
    return assemble(layout, lowered.program, vocab, max_seq_len, causal, info), policy


def _disagreement(result: Verification, policy: AggregatePolicy) -> str:
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


def _check(program: Any, vocab: Sequence[Any], max_seq_len: int) -> tuple[Any, ...]:
    if not isinstance(program, SOp):
        raise CompileError(f"compile_program needs an s-op, got {program!r}")
    if not isinstance(max_seq_len, int) or isinstance(max_seq_len, bool) or max_seq_len < 1:
        raise CompileError(f"max_seq_len must be a positive int, got {max_seq_len!r}")
    tokens = tuple(vocab)
    if not tokens:
        raise CompileError("the vocabulary is empty")
    bad = [t for t in tokens if not is_atom(t)]
    if bad:
        raise CompileError(f"vocabulary tokens must be int, float, str or bool, got {bad[:3]!r}")
    unique: dict[tuple, Any] = {}
    for t in tokens:
        unique.setdefault(value_key(t), t)  # 1, 1.0 and True stay three tokens
    return tuple(unique.values())


def _plan(lowered: Lowered, values: Any, max_seq_len: int, blockers: list[str]) -> Layout:
    """Plan the layers; merge the planner's blockers with earlier ones into one error."""
    try:
        layout = plan(
            lowered.program, values, float(max_seq_len), count_scales=lowered.count_scales
        )
    except CompileError as err:
        blockers = blockers + list(err.blockers)
        layout = None
    if blockers:
        raise CompileError.from_blockers(blockers)
    return layout


def _info(program: SOp, notes: Sequence[str], layout: Layout, policy, causal: bool) -> ModelInfo:
    paper = analyse(program)
    return ModelInfo(
        program=program.label,
        causal=causal,
        analysis_layers=paper.n_layers,
        analysis_heads=tuple(paper.heads_per_layer),
        attention_layers=len({h.block for h in layout.heads}),
        notes=tuple(dict.fromkeys([*notes, *layout.notes])),
        assumptions=tuple(policy.assumptions.values()),
    )
