"""The run directory: config, checkpoint, metrics, plots, and loading a run back.

A run directory holds ``config.json`` (the resolved :class:`TrainConfig`),
``model.safetensors`` (best validated weights, vocabularies in its
metadata), ``metrics.json`` (history, best validation, test scores) and,
when matplotlib is installed, ``curves.png``, ``lengths.png`` and ``attention.png``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import TrainingError
from . import checkpoint, plots
from .config import TrainConfig, require_torch
from .data import BOS, PAD, Task, TaskData

__all__ = ["RunWriter", "LoadedRun", "load_run", "summary", "RUN_FILES"]

RUN_FILES = (
    "config.json",
    "model.safetensors",
    "metrics.json",
    "curves.png",
    "lengths.png",
    "attention.png",
)
FORMAT = "rasplab-train-1"


class RunWriter:
    """Writes a run directory (on rank 0); refuses a non-empty one unless ``force``."""

    def __init__(self, path: str | Path | None, *, force: bool, verbose: bool, active: bool):
        self.path = None if path is None else Path(path)
        # Where this process writes: only the active one (rank 0), and only given a path.
        self.folder = self.path if active else None
        self.verbose, self.active = verbose, self.folder is not None
        self.meta: dict[str, Any] = {}
        if self.folder is not None:
            _prepare(self.folder, force)

    def start(self, config: TrainConfig, task: Task, train: TaskData) -> None:
        self.meta = {
            "format": FORMAT,
            "config": config.to_dict(),
            "in_vocab": list(train.in_vocab),
            "out_vocab": list(train.out_vocab),
            "heads": [[h.layer, h.slot, h.label] for h in task.heads],
        }
        if self.folder is not None:
            (self.folder / "config.json").write_text(json.dumps(config.to_dict(), indent=2) + "\n")

    def checkpoint(self, model: Any, step: int) -> None:
        if self.folder is not None:
            tensors = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
            meta = dict(self.meta, step=step)
            checkpoint.save(self.folder / "model.safetensors", tensors, meta)

    def finish(self, model: Any, metrics: dict[str, Any], test: TaskData, tensors: dict) -> None:
        if self.folder is None:
            return
        self.checkpoint(model, metrics["steps_run"])  # the best weights, which the model holds
        try:
            heads = self.meta["heads"]
            metrics["plots"] = plots.draw(self.folder, model, metrics, test, tensors, heads)
        except ImportError:
            metrics["plots"] = "skipped: matplotlib is not installed (pip install 'rasplab[train]')"
            if self.verbose:
                print(f"note: {metrics['plots']}", file=sys.stderr)
        text = json.dumps(metrics, indent=2, default=str)
        (self.folder / "metrics.json").write_text(text + "\n")


def _prepare(path: Path, force: bool) -> None:
    """Create ``path``; a non-empty one only with ``force`` (then our old files go)."""
    if path.exists() and not path.is_dir():
        raise TrainingError(f"output path {path} exists and is not a directory")
    if path.is_dir() and any(path.iterdir()):
        if not force:
            raise TrainingError(
                f"output directory {path} is not empty; pass --force to overwrite its run files"
            )
        for name in RUN_FILES:
            (path / name).unlink(missing_ok=True)
    path.mkdir(parents=True, exist_ok=True)


def summary(config, task, model, fitted, test, world: int, device: str) -> dict[str, Any]:
    """The JSON-ready metrics of a finished run."""
    history = fitted["history"]
    best = max(history, key=lambda h: (h["val_seq_acc"], h["val_pos_acc"], -h["val_loss"]))
    return {
        "program": task.name,
        "config": config.to_dict(),
        "analysis": {
            "layers": task.n_layers,
            "heads_per_layer": list(task.heads_per_layer),
            "heads": [f"layer {h.layer + 1} head {h.slot}: {h.label}" for h in task.heads],
        },
        "model": {
            "layers": config.layers,
            "heads": config.heads,
            "parameters": sum(p.numel() for p in model.parameters()),
        },
        "world_size": world,
        "device": device,
        "steps_run": fitted["steps_run"],
        "stopped": fitted["stopped"],
        "train_seconds": round(fitted["train_seconds"], 3),
        "best_validation": best,
        "test": test,
        "history": history,
    }


@dataclass
class LoadedRun:
    """A trained model read back from a run directory."""

    model: Any
    config: TrainConfig
    in_vocab: tuple[Any, ...]
    out_vocab: tuple[Any, ...]
    metadata: dict[str, Any]

    def encode(self, inputs: list[Any]) -> np.ndarray:
        """Inputs as ids ``[n, 1 + max_len]`` (BOS first, PAD after)."""
        ids = {(type(t).__name__, t): i + 2 for i, t in enumerate(self.in_vocab)}
        tokens = np.full((len(inputs), self.config.max_len + 1), PAD, dtype=np.int64)
        tokens[:, 0] = BOS
        for row, xs in enumerate(inputs):
            xs = list(xs)
            if len(xs) > self.config.max_len:
                raise TrainingError(f"input of length {len(xs)} > max_len {self.config.max_len}")
            try:
                tokens[row, 1 : len(xs) + 1] = [ids[(type(t).__name__, t)] for t in xs]
            except KeyError as err:
                raise TrainingError(f"token {err.args[0][1]!r} is not in the vocabulary") from None
        return tokens

    def predict(self, inputs: list[Any]) -> list[list[Any]]:
        """The model's output sequence for each input."""
        torch = require_torch()
        tokens = torch.as_tensor(self.encode(inputs))
        with torch.no_grad():
            logits, _ = self.model(tokens)  # [n, pos, classes]
        classes = logits.argmax(-1).numpy()
        return [
            [self.out_vocab[c] for c in classes[i, 1 : len(xs) + 1]] for i, xs in enumerate(inputs)
        ]


def load_run(path: str | Path) -> LoadedRun:
    """Rebuild the model of a run directory (or of a ``model.safetensors`` file)."""
    from .model import Transformer

    torch = require_torch()
    path = Path(path)
    tensors, meta = checkpoint.load(path / "model.safetensors" if path.is_dir() else path)
    if meta.get("format") != FORMAT:
        raise TrainingError(f"{path} is not a rasplab training checkpoint")
    config = TrainConfig.from_dict(meta["config"])
    model = Transformer.from_config(config, len(meta["in_vocab"]) + 2, len(meta["out_vocab"]))
    model.load_state_dict({k: torch.as_tensor(v) for k, v in tensors.items()})
    model.eval()
    return LoadedRun(model, config, tuple(meta["in_vocab"]), tuple(meta["out_vocab"]), meta)
