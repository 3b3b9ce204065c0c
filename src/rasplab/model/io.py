"""Saving and loading compiled models: ``.npz`` or ``.safetensors``, never pickle.

Weights are stored as raw float64 arrays under their TransformerLens names,
so a round trip is bit-exact. Everything else (directions, vocabulary,
output values, notes) is JSON, with values tagged by type so that ``1``,
``1.0``, ``True`` and ``"1"`` come back as they went in. A ``.safetensors``
file follows that format's layout (8-byte header length, JSON header,
little-endian data) and is written without the ``safetensors`` package.

>>> decode_value(encode_value((1, 1.5, True, "a", None)))
(1, 1.5, True, 'a', None)
"""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import RaspError
from .info import ModelInfo
from .model import MLP, Attention, Block, CompiledModel, Output

__all__ = ["save", "load", "ModelFileError", "encode_value", "decode_value", "FORMAT"]

FORMAT = "rasplab-compiled-model"
VERSION = 1


class ModelFileError(RaspError):
    """A file is not a compiled rasplab model, or is damaged."""


def encode_value(v: Any) -> Any:
    """A JSON-safe, type-tagged form of an s-op value."""
    if v is None:
        return ["none"]
    if isinstance(v, bool):
        return ["bool", v]
    if isinstance(v, int):
        return ["int", str(v)]
    if isinstance(v, float):
        return ["float", v.hex()]
    if isinstance(v, str):
        return ["str", v]
    if isinstance(v, tuple):
        return ["tuple", [encode_value(x) for x in v]]
    raise ModelFileError(f"cannot store the value {v!r} ({type(v).__name__})")


def decode_value(item: Any) -> Any:
    tag = item[0]
    if tag == "none":
        return None
    if tag == "bool":
        return bool(item[1])
    if tag == "int":
        return int(item[1])
    if tag == "float":
        return float.fromhex(item[1])
    if tag == "str":
        return str(item[1])
    if tag == "tuple":
        return tuple(decode_value(x) for x in item[1])
    raise ModelFileError(f"unknown value tag {tag!r}")


def _meta(model: CompiledModel) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "directions": list(model.directions),
        "vocab": [encode_value(v) for v in model.vocab],
        "max_seq_len": model.max_seq_len,
        "causal": model.causal,
        "n_blocks": model.n_layers,
        "head_names": [list(b.attn.names) for b in model.blocks],
        "output": {
            "kind": model.output.kind,
            "values": [encode_value(v) for v in model.output.values],
            "coords": [float(c).hex() for c in model.output.coords],
        },
        "info": model.info.to_json(),
    }


def save(model: CompiledModel, path: str | Path) -> Path:
    """Write ``model`` to ``path`` (``.safetensors``, else ``.npz``); returns the path."""
    path = Path(path)
    arrays = {k: np.ascontiguousarray(v, dtype=np.float64) for k, v in model.arrays().items()}
    meta = json.dumps(_meta(model), sort_keys=True)
    if path.suffix == ".safetensors":
        _write_safetensors(path, arrays, meta)
    else:
        with open(path, "wb") as fh:
            np.savez(fh, __meta__=np.frombuffer(meta.encode(), dtype=np.uint8), **arrays)
    return path


def _write_safetensors(path: Path, arrays: dict[str, np.ndarray], meta: str) -> None:
    header: dict[str, Any] = {"__metadata__": {"rasplab": meta}}
    offset = 0
    for name, a in arrays.items():
        header[name] = {
            "dtype": "F64",
            "shape": list(a.shape),
            "data_offsets": [offset, offset + a.nbytes],
        }
        offset += a.nbytes
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(raw)))
        fh.write(raw)
        for a in arrays.values():
            fh.write(a.astype("<f8").tobytes())


def _read_safetensors(path: Path) -> tuple[dict[str, np.ndarray], str]:
    data = path.read_bytes()
    if len(data) < 8:
        raise ModelFileError(f"{path}: too short to be a safetensors file")
    (size,) = struct.unpack("<Q", data[:8])
    if size > len(data) - 8:
        raise ModelFileError(f"{path}: header length {size} exceeds the file")
    header = json.loads(data[8 : 8 + size])
    meta = header.pop("__metadata__", {}).get("rasplab")
    if meta is None:
        raise ModelFileError(f"{path}: a safetensors file, but not a compiled rasplab model")
    body = data[8 + size :]
    arrays = {}
    for name, spec in header.items():
        start, end = spec["data_offsets"]
        if spec["dtype"] != "F64" or not 0 <= start <= end <= len(body):
            raise ModelFileError(f"{path}: tensor {name} is damaged")
        shape = tuple(spec["shape"])
        a = np.frombuffer(body[start:end], dtype="<f8")
        if a.size != int(np.prod(shape)):
            raise ModelFileError(f"{path}: tensor {name} has the wrong size")
        arrays[name] = a.reshape(shape).astype(np.float64)
    return arrays, meta


def _read_npz(path: Path) -> tuple[dict[str, np.ndarray], str]:
    with open(path, "rb") as fh:
        if fh.read(4) != b"PK\x03\x04":
            raise ModelFileError(f"{path}: not an npz archive, so not a compiled rasplab model")
    with np.load(path, allow_pickle=False) as z:
        if "__meta__" not in z.files:
            raise ModelFileError(f"{path}: an npz file, but not a compiled rasplab model")
        arrays = {k: np.array(z[k]) for k in z.files if k != "__meta__"}
        meta = bytes(z["__meta__"].astype(np.uint8)).decode()
    return arrays, meta


def load(path: str | Path) -> CompiledModel:
    """Read a model written by :func:`save`; ModelFileError if it is not one."""
    path = Path(path)
    try:
        if path.suffix == ".safetensors":
            arrays, meta_text = _read_safetensors(path)
        else:
            arrays, meta_text = _read_npz(path)
        return _build(arrays, json.loads(meta_text), path)
    except ModelFileError:
        raise
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such file") from None
    except (OSError, ValueError, KeyError, TypeError, IndexError, zipfile.BadZipFile) as err:
        raise ModelFileError(f"{path}: not a readable compiled model ({err})") from None


def _info(data: Any, path: Path) -> ModelInfo:
    try:
        return ModelInfo.from_json(data)
    except (TypeError, ValueError) as err:
        raise ModelFileError(f"{path}: bad model info ({err})") from None


def _build(arrays: dict[str, np.ndarray], meta: dict[str, Any], path: Path) -> CompiledModel:
    if meta.get("format") != FORMAT:
        raise ModelFileError(
            f"{path}: not a compiled rasplab model (format {meta.get('format')!r})"
        )
    if meta.get("version") != VERSION:
        raise ModelFileError(f"{path}: model file version {meta.get('version')} is not supported")
    blocks = []
    for i, names in zip(range(meta["n_blocks"]), meta["head_names"], strict=True):
        p = f"blocks.{i}."
        attn = Attention(
            *(
                arrays[p + "attn." + n]
                for n in ("W_Q", "W_K", "W_V", "W_O", "b_Q", "b_K", "b_V", "b_O")
            ),
            names=tuple(names),
        )
        mlp = MLP(*(arrays[p + "mlp." + n] for n in ("W_in", "b_in", "W_out", "b_out")))
        blocks.append(Block(attn, mlp))
    out = meta["output"]
    output = Output(
        out["kind"],
        tuple(decode_value(v) for v in out["values"]),
        tuple(float.fromhex(c) for c in out["coords"]),
    )
    model = CompiledModel(
        tuple(meta["directions"]),
        tuple(decode_value(v) for v in meta["vocab"]),
        int(meta["max_seq_len"]),
        bool(meta["causal"]),
        arrays["embed.W_E"],
        arrays["pos_embed.W_pos"],
        tuple(blocks),
        arrays["unembed.W_U"],
        arrays["unembed.b_U"],
        output,
        _info(meta.get("info", {}), path),
    )
    if model.W_E.shape[1] != model.d_model:
        raise ModelFileError(f"{path}: embedding width does not match the directions")
    return model
