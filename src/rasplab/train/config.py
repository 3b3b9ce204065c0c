"""The one configuration of a training run, and the optional dependencies it needs.

>>> cfg = TrainConfig(program="hist", steps=300)
>>> cfg.replace(attn_supervision=True).attn_supervision, cfg.d_ff
(True, 256)
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from ..errors import TrainingError

__all__ = ["TrainConfig", "require_torch", "POSITIONS", "NORMS", "DEVICES"]

POSITIONS = ("learned", "onehot")
NORMS = ("pre", "none")
DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a run; a run directory stores it as ``config.json``."""

    program: str = "hist"  # library name (lib:NAME or NAME), or a label for a given s-op
    vocab: tuple[Any, ...] | None = None  # None: the library program's own vocabulary
    max_len: int = 16  # inputs have lengths min_len..max_len, drawn uniformly
    min_len: int = 1
    n_train: int = 5000  # training sequences (resampled never: epochs go over the same set)
    n_val: int = 500  # validation sequences, checked every eval_every steps
    n_test: int = 1000  # test sequences, scored once with the best checkpoint
    layers: int | None = None  # None: the analysis's number of layers
    heads: int | None = None  # None: the most heads any layer of the analysis needs
    d_model: int = 64  # residual width, split over the heads of a layer
    ff_mult: int = 4  # MLP hidden width = ff_mult * d_model
    positions: str = "learned"  # "learned" embeddings, or fixed "onehot" dims
    norm: str = "pre"  # "pre": pre-LayerNorm blocks; "none": no normalisation
    dropout: float = 0.0
    attn_supervision: bool = False  # pull each program head's attention to its selector
    attn_weight: float = 1.0  # weight of the attention loss against the task loss
    attn_weight_end: float | None = None  # eased (cosine) to this by the end; None: constant
    steps: int = 2000  # optimiser steps (ignored when epochs is set)
    epochs: int | None = None  # passes over the training set, instead of steps
    batch_size: int = 64  # per process; under DDP the global batch is world_size times this
    lr: float = 1e-3  # peak learning rate (AdamW), after warmup, cosine decay to lr / 10
    weight_decay: float = 0.01
    warmup: int = 100  # warmup steps (at most a tenth of the run)
    eval_every: int = 100  # steps between validations (and checkpoints on improvement)
    target_acc: float = 0.995  # stop when validation sequence accuracy reaches this
    patience: int = 0  # stop after this many validations without improvement (0: never)
    time_limit: float = 0.0  # stop after this many seconds of training (0: no limit)
    seed: int = 0  # seeds data, initialisation and batch order
    device: str = "auto"  # "auto": cuda when available, else cpu
    threads: int = 0  # torch CPU threads per process (0: torch's default)

    def __post_init__(self) -> None:
        checks = [
            (self.positions in POSITIONS, f"positions must be one of {POSITIONS}"),
            (self.norm in NORMS, f"norm must be one of {NORMS}"),
            (self.device in DEVICES, f"device must be one of {DEVICES}"),
            (1 <= self.min_len <= self.max_len, "need 1 <= min_len <= max_len"),
            (min(self.n_train, self.n_val, self.n_test) >= 1, "every split needs a sequence"),
            (self.layers is None or self.layers >= 1, "a model needs at least one layer"),
            (self.heads is None or self.heads >= 1, "a layer needs at least one head"),
            (self.d_model >= 1 and self.ff_mult >= 1, "d_model and ff_mult must be positive"),
            (self.steps >= 1 and (self.epochs or 1) >= 1, "steps and epochs must be positive"),
            (self.batch_size >= 1 and self.eval_every >= 1, "batch and eval_every >= 1"),
            (self.attn_weight >= 0, "attn_weight must be >= 0"),
            ((self.attn_weight_end or 0) >= 0, "attn_weight_end must be >= 0"),
            (self.patience >= 0 and self.time_limit >= 0, "patience, time_limit >= 0"),
        ]
        for ok, message in checks:
            if not ok:
                raise TrainingError(f"bad training configuration: {message}")

    @property
    def d_ff(self) -> int:
        return self.ff_mult * self.d_model

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some fields changed (and checked again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["vocab"] = None if self.vocab is None else list(self.vocab)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        data = {k: v for k, v in data.items() if k in known}
        if data.get("vocab") is not None:
            data["vocab"] = tuple(data["vocab"])
        return cls(**data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)


def require_torch() -> Any:
    """The ``torch`` module, or a :class:`TrainingError` naming the extra to install."""
    try:
        import torch
    except ImportError as err:
        raise TrainingError(
            "training needs PyTorch, an optional extra: pip install 'rasplab[train]'"
        ) from err
    return torch
