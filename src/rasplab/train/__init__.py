"""Train standard transformers to compute RASP programs, with attention supervision.

The data side needs numpy only; the model, the loop and the experiment need
PyTorch (``pip install 'rasplab[train]'``) and import it when first used.

>>> from rasplab.train import dataset, TrainConfig
>>> data = dataset("reverse", lengths=5, n=4, seed=1)
>>> data.patterns.shape  # [n, layers, heads, BOS + max_len, BOS + max_len]
(4, 2, 1, 6, 6)

``train(TrainConfig(program="hist", attn_supervision=True), out_dir="run/")``
trains one model; ``run_paper("out/", quick=True)`` runs the paper's table.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .config import TrainConfig
from .data import Task, TaskData, dataset, make_task, splits

__all__ = [
    "TrainConfig",
    "Task",
    "TaskData",
    "dataset",
    "make_task",
    "splits",
    "train",
    "RunResult",
    "Transformer",
    "load_run",
    "LoadedRun",
    "run_paper",
    "run_compiled",
    "compiled_transformer",
    "distil",
    "fine_tune",
    "main",
]

_LAZY = {  # name -> module that needs torch
    "train": "loop",
    "RunResult": "loop",
    "Transformer": "model",
    "load_run": "rundir",
    "LoadedRun": "rundir",
    "run_paper": "experiment",
    "run_compiled": "compiled_experiment",
    "compiled_transformer": "compiled",
    "distil": "compiled",
    "fine_tune": "compiled",
    "main": "cli",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
