"""Checkpoints as safetensors files, written and read by the ``safetensors`` package.

A checkpoint holds the trained model's tensors (numpy arrays, by name) and a
metadata map whose values are JSON strings (the safetensors header allows
only strings there). No pickle is involved, so loading runs no code, and
``safetensors.torch.load_file`` opens the same file.

>>> import tempfile
>>> path = Path(tempfile.mkdtemp()) / "model.safetensors"
>>> save(path, {"w": np.arange(6, dtype=np.float32).reshape(2, 3)}, {"step": 7})
>>> tensors, meta = load(path)
>>> tensors["w"].tolist(), meta
([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], {'step': 7})
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import safetensors
import safetensors.numpy

from ..errors import TrainingError

__all__ = ["save", "load"]


def save(path: str | Path, tensors: Mapping[str, np.ndarray], metadata: Mapping[str, Any]) -> None:
    """Write a checkpoint; ``metadata`` values are stored as JSON strings."""
    meta = {k: json.dumps(v, sort_keys=True) for k, v in metadata.items()}
    arrays = {name: np.ascontiguousarray(tensors[name]) for name in sorted(tensors)}
    tmp = Path(f"{path}.tmp")
    try:
        safetensors.numpy.save_file(arrays, str(tmp), metadata=meta)
    except (safetensors.SafetensorError, ValueError) as err:  # an unstorable dtype, I/O
        raise TrainingError(f"cannot write the checkpoint {path}: {err}") from None
    tmp.replace(path)  # never leave a half-written checkpoint behind


def load(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a checkpoint written by :func:`save`."""
    path = Path(path)
    if not path.is_file():
        raise TrainingError(f"no checkpoint at {path}")
    try:
        with safetensors.safe_open(str(path), framework="np") as fh:
            meta = fh.metadata() or {}
            tensors = {name: fh.get_tensor(name) for name in fh.keys()}  # noqa: SIM118
        return tensors, {k: json.loads(v) for k, v in meta.items()}
    except (safetensors.SafetensorError, ValueError) as err:
        raise TrainingError(f"{path} is not a readable safetensors checkpoint: {err}") from None
