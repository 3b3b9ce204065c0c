"""The one configuration of a learning run, and torch, which only training needs.

>>> cfg = LearnConfig(layers=1, heads=1)
>>> cfg.replace(steps=10).steps, cfg.kinds
(10, ('cat', 'width', 'mean'))
>>> LearnConfig(layers=2, plan=(("width", "width"), ("cat",))).layer_kinds()
(('width', 'width'), ('cat',))
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..errors import TrainingError

__all__ = ["LearnConfig", "HEAD_KINDS", "require_torch"]

HEAD_KINDS = ("cat", "width", "mean")


@dataclass(frozen=True)
class LearnConfig:
    """Everything that decides one fit of a program model to a task."""

    layers: int = 2
    heads: int = 1  # heads of each kind in every layer
    kinds: tuple[str, ...] = HEAD_KINDS  # cat: move a token; width: count; mean: average 0/1
    # the head kinds of each layer (one entry per head), in place of kinds x heads; () off
    plan: tuple[tuple[str, ...], ...] = ()
    mlps: int = 1  # lookup tables in every layer, each over two variables
    factors: int = 2  # comparisons ANDed in each head's selector
    mlp_values: int = 0  # values an MLP writes; 0: one more than the longest input
    n_train: int = 4000  # training examples (fewer when a JSONL file has fewer)
    n_val: int = 500  # examples that decide early stopping and the best restart
    n_test: int = 1000  # examples scored once, by the discrete program and its read-out
    steps: int = 1500  # optimiser steps per restart
    batch_size: int = 128
    lr: float = 0.05  # Adam; tables of logits move fast
    table_init: float = 1.0  # standard deviation of a lookup table's initial logits
    tau_start: float = 2.0  # Gumbel-softmax temperature at the start...
    tau_end: float = 0.05  # ...annealed geometrically to this at the end
    hard_from: float = 0.5  # share of the steps after which choices are straight-through one-hot
    noise: bool = True  # Gumbel noise on the choices (off: a tempered softmax)
    purity: float = 1.0  # weight of the penalty on categorical heads that mix values
    query_tables: bool = True  # cat heads compute their first query with a lookup table
    key_tables: tuple[str, ...] = ()  # head kinds whose first key is a lookup table too
    eval_every: int = 100  # steps between checks of the discrete program on validation data
    restarts: int = 2  # random initialisations per seed; the best on validation is kept
    time_limit: float = 0.0  # seconds per fit (all restarts); 0: no limit
    threads: int = 1  # torch CPU threads
    ablate: bool = True  # prune heads by ablation when simplifying
    # refine the best restart's program by discrete local search (rasplab.learn.search): each
    # head's comparisons, moved or averaged variable, with the output table refit by majority
    polish: bool = True
    polish_rounds: int = 4  # rounds of coordinate descent (one finding nothing ends it)
    polish_share: float = 0.3  # share of time_limit kept for the search: restarts begin before
    polish_sample: int = 1000  # training examples the search scores (0: all)

    def replace(self, **changes: Any) -> LearnConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def layer_kinds(self) -> tuple[tuple[str, ...], ...]:
        """Every layer's head kinds, one entry per head, in order."""
        if self.plan:
            return self.plan
        return tuple(
            tuple(k for k in self.kinds for _ in range(self.heads)) for _ in range(self.layers)
        )

    def check(self) -> None:
        """Refuse sizes and settings that cannot run, naming the field."""
        for name in ("layers", "heads", "steps", "batch_size", "eval_every", "restarts"):
            if getattr(self, name) < 1:
                raise TrainingError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.factors not in (1, 2):
            raise TrainingError(f"factors must be 1 or 2, got {self.factors}")
        unknown = [k for k in self.kinds if k not in HEAD_KINDS]
        if unknown or not self.kinds:
            raise TrainingError(f"head kinds must be among {HEAD_KINDS}, got {self.kinds}")
        if self.plan and len(self.plan) != self.layers:
            raise TrainingError(f"plan has {len(self.plan)} layers, layers is {self.layers}")
        planned = [k for layer in self.plan for k in layer]
        if any(k not in HEAD_KINDS for k in planned):
            raise TrainingError(f"plan: head kinds must be among {HEAD_KINDS}, got {planned}")
        if self.polish_rounds < 0 or self.polish_sample < 0:
            raise TrainingError("polish_rounds and polish_sample must not be negative")
        if not 0.0 <= self.polish_share < 1.0:
            raise TrainingError(f"polish_share must be in [0, 1), got {self.polish_share}")
        if not 0.0 < self.tau_end <= self.tau_start:
            raise TrainingError("need 0 < tau_end <= tau_start")


def require_torch() -> Any:
    """The ``torch`` module, or a :class:`TrainingError` naming the extra to install."""
    try:
        import torch
    except ImportError as err:
        raise TrainingError(
            "learning programs needs PyTorch, an optional extra: pip install 'rasplab[learn]'"
        ) from err
    return torch
