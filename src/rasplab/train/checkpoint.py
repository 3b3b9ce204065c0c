"""Checkpoints in the safetensors format, written and read with numpy alone.

The file is what the ``safetensors`` library writes (and can load): an
8-byte little-endian header length, a JSON header naming each tensor's dtype,
shape and byte range plus a ``__metadata__`` map of strings, then the raw
little-endian bytes. No pickle is involved, so loading runs no code.

>>> import io
>>> buf = io.BytesIO()
>>> write_safetensors(buf, {"w": np.arange(6, dtype=np.float32).reshape(2, 3)}, {"k": "v"})
>>> tensors, meta = read_safetensors(io.BytesIO(buf.getvalue()))
>>> tensors["w"].tolist(), meta
([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], {'k': 'v'})
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..errors import TrainingError

__all__ = ["write_safetensors", "read_safetensors", "save", "load"]

DTYPES = {
    "F64": np.float64,
    "F32": np.float32,
    "F16": np.float16,
    "I64": np.int64,
    "I32": np.int32,
    "I8": np.int8,
    "U8": np.uint8,
    "BOOL": np.bool_,
}
CODES = {np.dtype(v): k for k, v in DTYPES.items()}


def write_safetensors(
    stream: IO[bytes], tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str]
) -> None:
    """Write ``tensors`` (name -> array) and string ``metadata`` to a binary stream."""
    header: dict[str, Any] = {"__metadata__": dict(metadata)}
    blobs, offset = [], 0
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name])
        if array.dtype not in CODES:
            raise TrainingError(f"cannot store tensor {name} of dtype {array.dtype}")
        blob = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {
            "dtype": CODES[array.dtype],
            "shape": list(array.shape),
            "data_offsets": [offset, offset + len(blob)],
        }
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the tensor bytes start 8-byte aligned
    stream.write(struct.pack("<Q", len(text)))
    stream.write(text)
    for blob in blobs:
        stream.write(blob)


def read_safetensors(stream: IO[bytes]) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Tensors and metadata from a safetensors stream."""
    raw = stream.read()
    try:
        (size,) = struct.unpack("<Q", raw[:8])
        header = json.loads(raw[8 : 8 + size])
    except (struct.error, ValueError) as err:
        raise TrainingError(f"not a safetensors checkpoint: {err}") from err
    body = raw[8 + size :]
    metadata = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        dtype = np.dtype(DTYPES[info["dtype"]]).newbyteorder("<")
        array = np.frombuffer(body[start:end], dtype=dtype).reshape(info["shape"])
        tensors[name] = array.astype(array.dtype.newbyteorder("="))
    return tensors, metadata


def save(path: str | Path, tensors: Mapping[str, np.ndarray], metadata: Mapping[str, Any]) -> None:
    """Write a checkpoint; ``metadata`` values are stored as JSON strings."""
    meta = {k: json.dumps(v, sort_keys=True) for k, v in metadata.items()}
    tmp = Path(f"{path}.tmp")
    with tmp.open("wb") as stream:
        write_safetensors(stream, tensors, meta)
    tmp.replace(path)  # never leave a half-written checkpoint behind


def load(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a checkpoint written by :func:`save`."""
    path = Path(path)
    if not path.is_file():
        raise TrainingError(f"no checkpoint at {path}")
    with path.open("rb") as stream:
        tensors, meta = read_safetensors(stream)
    return tensors, {k: json.loads(v) for k, v in meta.items()}
