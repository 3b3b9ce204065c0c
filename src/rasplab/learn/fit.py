"""Fit the program model to examples: Gumbel-softmax annealed to discrete choices.

Each restart trains for ``steps`` steps; the temperature falls geometrically
from ``tau_start`` to ``tau_end``, and after ``hard_from`` of the steps every
choice is a straight-through one-hot. Every ``eval_every`` steps the discrete
program is extracted and scored on the validation data by the numpy forward
pass (exact, not the relaxed model); a restart stops once it is perfect there
and on the training examples (a table entry only rare inputs reach is then
learned too). The best discrete program over all restarts is kept.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .config import LearnConfig, require_torch
from .data import Encoded, Examples, encode
from .discrete import Program, forward

__all__ = ["FitResult", "Score", "score", "fit"]


@dataclass(frozen=True)
class Score:
    token_acc: float  # share of positions right (an undefined row: all wrong)
    seq_acc: float  # share of inputs entirely right
    undefined: int  # inputs where a categorical head the output reads conflicts


def score(program: Program, data: Encoded) -> Score:
    """The discrete program's accuracy on encoded examples."""
    result = forward(program, data.tokens, data.lengths)
    real = data.labels != -100  # [n, max_len]
    right = (result.output == data.labels) & real & ~result.conflict[:, None]
    tokens = float(right.sum() / max(real.sum(), 1))
    rows = float(((right | ~real).all(axis=1)).mean()) if len(real) else 0.0
    return Score(tokens, rows, int(result.conflict.sum()))


@dataclass
class FitResult:
    program: Program
    val: Score
    seed: int
    restart: int
    steps: int  # steps the kept restart ran
    seconds: float
    history: list[dict[str, Any]] = field(default_factory=list)  # every restart's checks
    polished: list[dict[str, Any]] = field(default_factory=list)  # every restart's polish


def _tau(step: int, config: LearnConfig) -> float:
    share = step / max(config.steps - 1, 1)
    return config.tau_start * (config.tau_end / config.tau_start) ** share


def _tensors(data: Encoded) -> tuple[Any, Any, Any]:
    torch = require_torch()
    return (
        torch.from_numpy(data.tokens),
        torch.from_numpy(data.lengths),
        torch.from_numpy(data.labels),
    )


def _step(model, optimizer, batch, step: int, config: LearnConfig) -> float:
    from .model import Sampling

    torch = require_torch()
    tokens, lengths, labels = batch
    hard = step >= config.hard_from * config.steps
    mode = Sampling(tau=_tau(step, config), hard=hard, noise=config.noise)
    logits = model(tokens, lengths, mode)  # [batch, n, labels]
    loss = torch.nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100
    )
    loss = loss + config.purity * model.penalty
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return float(loss.detach())


@dataclass
class _Run:
    """One restart's progress: its best discrete program so far."""

    best: Program | None = None
    val: Score = field(default_factory=lambda: Score(-1.0, -1.0, 0))
    steps: int = 0


def _restart(
    train: Encoded,
    val: Encoded,
    examples: Examples,
    config: LearnConfig,
    seed: int,
    deadline: float,
    tick: Callable[[int], None],
    history: list[dict[str, Any]],
    restart: int,
) -> _Run:
    from .model import ProgramModel

    torch = require_torch()
    torch.manual_seed(seed)
    model = ProgramModel(config, examples.vocab, examples.labels, examples.max_len)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    data = _tensors(train)
    rng = np.random.default_rng(seed)
    run = _Run()
    for step in range(config.steps):
        rows = torch.from_numpy(rng.integers(0, len(train.tokens), config.batch_size))
        loss = _step(model, optimizer, tuple(t[rows] for t in data), step, config)
        tick(1)
        late = time.monotonic() > deadline
        if (step + 1) % config.eval_every and step + 1 < config.steps and not late:
            continue
        program = model.extract()
        found = score(program, val)
        history.append(dict(restart=restart, step=step + 1, loss=loss, val_acc=found.token_acc))
        if found.token_acc >= run.val.token_acc:  # later is better on ties: more annealed
            run.best, run.val, run.steps = program, found, step + 1
        if late or (found.token_acc >= 1.0 and score(program, train).token_acc >= 1.0):
            tick(config.steps - step - 1)
            break
    return run


def fit(
    examples: Examples,
    train: Examples,
    val: Examples,
    config: LearnConfig,
    seed: int,
    tick: Callable[[int], None] = lambda n: None,
) -> FitResult:
    """The best discrete program over ``config.restarts`` restarts from ``seed``; with
    ``config.polish``, refined at the end by discrete search (:mod:`rasplab.learn.search`)."""
    torch = require_torch()
    torch.set_num_threads(config.threads)
    start = time.monotonic()
    limit = config.time_limit if config.time_limit > 0 else math.inf
    deadline = start + limit
    # restarts begin only before 1 - polish_share of the limit: the rest is the search's
    gradient = start + limit * (1.0 - config.polish_share if config.polish else 1.0)
    train_e, val_e = encode(_like(train, examples)), encode(_like(val, examples))
    history: list[dict[str, Any]] = []
    polished: list[dict[str, Any]] = []
    found: list[FitResult] = []  # each restart's best, in the order run
    for restart in range(config.restarts):
        run_seed = seed * 1000 + restart
        run = _restart(train_e, val_e, examples, config, run_seed, gradient, tick, history, restart)
        if run.best is not None:
            found.append(FitResult(run.best, run.val, seed, restart, run.steps, 0.0))
        best = max(found, key=lambda r: r.val.token_acc, default=None)  # the first of ties
        if (best is not None and _solved(best, train_e)) or time.monotonic() > gradient:
            tick(config.steps * (config.restarts - restart - 1))
            break
    assert found  # every restart checks at least once, at its last step
    best = _polished(found, train_e, val_e, config, deadline, polished) if config.polish else None
    best = best or max(found, key=lambda r: r.val.token_acc)
    best.seconds, best.history, best.polished = time.monotonic() - start, history, polished
    return best


def _polished(
    found: list[FitResult],
    train: Encoded,
    val: Encoded,
    config: LearnConfig,
    deadline: float,
    log: list[dict[str, Any]],
) -> FitResult | None:
    """The best restart after the discrete search, by validation accuracy. The search
    starts from the restart best on validation; while it leaves the training examples
    unsolved and time is left, from the next best too: a longer training can settle
    in a structure the search cannot leave (full-setting dyck1: 95% trained, stuck),
    where a restart that trained worse is a few moves from the answer."""
    ranked = sorted(found, key=lambda r: -r.val.token_acc)  # stable: the first of ties
    best: FitResult | None = None
    for i, result in enumerate(ranked):
        if _solved(result, train):
            run = _Run(result.program, result.val, result.steps)
        elif i == 0 or time.monotonic() < deadline:
            run = _Run(result.program, result.val, result.steps)
            _polish(run, train, val, config, deadline, log, result.restart)
        else:
            break
        assert run.best is not None
        result.program, result.val = run.best, run.val
        if best is None or result.val.token_acc > best.val.token_acc:
            best = result
        if _solved(best, train):
            break
    return best


def _solved(best: FitResult, train: Encoded) -> bool:
    """Right on every validation and every training example."""
    return best.val.token_acc >= 1.0 and score(best.program, train).token_acc >= 1.0


def _polish(
    run: _Run,
    train: Encoded,
    val: Encoded,
    config: LearnConfig,
    deadline: float,
    log: list[dict[str, Any]],
    restart: int,
) -> None:
    """Replace the run's program by its polished form where validation is no worse."""
    from .search import polish

    assert run.best is not None
    found = polish(
        run.best, train, rounds=config.polish_rounds, deadline=deadline, sample=config.polish_sample
    )
    checked = score(found.program, val)
    kept = checked.token_acc >= run.val.token_acc
    log.append(
        dict(
            restart=restart,
            moves=found.moves,
            rounds=found.rounds,
            seconds=round(found.seconds, 2),
            train_before=found.start_acc,
            train_after=found.train_acc,
            val_before=run.val.token_acc,
            val_after=checked.token_acc,
            kept=kept,
        )
    )
    if kept:
        run.best, run.val = found.program, checked


def _like(part: Examples, whole: Examples) -> Examples:
    """``part`` with the whole task's vocabulary, labels and longest length."""
    return Examples(part.inputs, part.outputs, whole.vocab, whole.labels, whole.max_len)
