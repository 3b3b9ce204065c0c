"""Saving and loading compiled models: ``.npz`` or ``.safetensors``, never pickle.

Weights are stored as raw float64 arrays under their TransformerLens names,
so a round trip is bit-exact. Everything else (directions, vocabulary,
output values, notes) is JSON, with values tagged by type so that ``1``,
``1.0``, ``True`` and ``"1"`` come back as they went in. A ``.safetensors``
file follows that format's layout (8-byte header length, JSON header,
little-endian data) and is written without the ``safetensors`` package.

A file carries a sha256 checksum of its metadata and arrays, and loading
checks it and every shape (see :mod:`rasplab.model.filecheck`): a damaged or
inconsistent file is a :class:`ModelFileError`, never a model that answers
wrongly. Files of format version 1 had no checksum; they are refused with a
message asking to compile the program again.

>>> decode_value(encode_value((1, 1.5, True, "a", None)))
(1, 1.5, True, 'a', None)
>>> try:
...     save(None, "model.txt")
... except OutputPathError as err:
...     print(err)
cannot save a model as 'model.txt': the name must end in .safetensors or .npz
"""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .filecheck import (
    ATTN_PARTS,
    MAX_HEADER_BYTES,
    MLP_PARTS,
    ModelFileError,
    OutputPathError,
    check_arrays,
    check_meta,
    checksum,
    parse_json,
)
from .info import ModelInfo
from .model import MLP, Attention, Block, CompiledModel, Output

__all__ = [
    "save",
    "load",
    "ModelFileError",
    "OutputPathError",
    "encode_value",
    "decode_value",
    "FORMAT",
    "VERSION",
    "SUFFIXES",
]

FORMAT = "rasplab-compiled-model"
VERSION = 2  # 2: a checksum over metadata and arrays; 1 (refused) had none
SUFFIXES = (".safetensors", ".npz")


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
    """The value :func:`encode_value` tagged; ModelFileError for anything else."""
    if item == ["none"]:
        return None
    if isinstance(item, list) and len(item) == 2:
        tag, payload = item
        if tag == "bool" and isinstance(payload, bool) or tag == "str" and isinstance(payload, str):
            return payload
        if tag == "tuple" and isinstance(payload, list):
            return tuple(decode_value(x) for x in payload)
        if tag in ("int", "float") and isinstance(payload, str):
            try:
                return int(payload) if tag == "int" else float.fromhex(payload)
            except ValueError:
                pass  # not a number: refused below
    raise ModelFileError(f"{json.dumps(item)[:60]} is not a tagged value")


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


def _check_suffix(path: Path, doing: str) -> None:
    if path.suffix not in SUFFIXES:
        error = OutputPathError if doing == "save" else ModelFileError
        raise error(
            f"cannot {doing} a model as '{path}': the name must end in {' or '.join(SUFFIXES)}"
        )


def save(model: CompiledModel, path: str | Path) -> Path:
    """Write ``model`` to ``path`` (``.safetensors`` or ``.npz``); returns the path.

    OutputPathError (a ModelFileError) for another suffix or a path that
    cannot be written, saying why.
    """
    path = Path(path)
    _check_suffix(path, "save")
    arrays = {k: np.ascontiguousarray(v, dtype=np.float64) for k, v in model.arrays().items()}
    write_file(path, arrays, _meta(model))
    return path


def write_file(path: Path, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    """Write ``arrays`` and ``meta`` (its checksum filled in) as ``path``'s suffix says."""
    meta = {**meta, "checksum": checksum(arrays, meta)}
    text = json.dumps(meta, sort_keys=True)
    try:
        with open(path, "wb") as fh:
            if path.suffix == ".safetensors":
                _write_safetensors(fh, arrays, text)
            else:
                meta_bytes = np.frombuffer(text.encode(), dtype=np.uint8)
                contents: dict[str, Any] = {"__meta__": meta_bytes, **arrays}
                np.savez(fh, **contents)
    except OSError as err:
        reason = err.strerror or str(err)
        raise OutputPathError(f"cannot write the model to '{path}': {reason}") from None


def _write_safetensors(fh: Any, arrays: dict[str, np.ndarray], meta: str) -> None:
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
    fh.write(struct.pack("<Q", len(raw)))
    fh.write(raw)
    for a in arrays.values():
        fh.write(a.astype("<f8").tobytes())


def load(path: str | Path) -> CompiledModel:
    """Read a model written by :func:`save`; ModelFileError if it is not one or is damaged."""
    path = Path(path)
    _check_suffix(path, "load")
    try:
        arrays, meta = read_file(path)
        return _build(arrays, meta)
    except ModelFileError as err:
        raise ModelFileError(f"'{path}': {err}") from None
    except FileNotFoundError:
        raise ModelFileError(f"'{path}': no such file") from None
    except OSError as err:
        raise ModelFileError(f"'{path}': cannot read it ({err.strerror or err})") from None
    except zipfile.BadZipFile as err:
        raise ModelFileError(f"'{path}': the file is damaged ({err})") from None
    except (ValueError, KeyError, TypeError, IndexError, RecursionError) as err:
        raise ModelFileError(f"'{path}': not a readable compiled model ({err})") from None


def read_file(path: Path) -> tuple[dict[str, np.ndarray], Any]:
    """The arrays and the parsed metadata of a model file, checked only as a container."""
    if path.suffix == ".safetensors":
        arrays, text = _read_safetensors(path)
    else:
        arrays, text = _read_npz(path)
    return arrays, parse_json(text, "metadata")


def _read_safetensors(path: Path) -> tuple[dict[str, np.ndarray], str]:
    data = path.read_bytes()
    if len(data) < 8:
        raise ModelFileError("too short to be a safetensors file")
    (size,) = struct.unpack("<Q", data[:8])
    if size > MAX_HEADER_BYTES:
        raise ModelFileError(
            f"its header length {size:,} is over the limit of {MAX_HEADER_BYTES:,} bytes (16 MiB)"
        )
    if size > len(data) - 8:
        raise ModelFileError(f"its header length {size:,} exceeds the file ({len(data):,} bytes)")
    header = parse_json(data[8 : 8 + size], "header")
    meta = header.pop("__metadata__", None) if isinstance(header, dict) else None
    if not isinstance(meta, dict) or not isinstance(meta.get("rasplab"), str):
        raise ModelFileError("a safetensors file, but not a compiled rasplab model")
    return _tensors(header, memoryview(data)[8 + size :]), meta["rasplab"]


def _span(name: str, spec: Any, body_size: int) -> tuple[int, int, tuple[int, ...]]:
    """``(start, end, shape)`` of one header entry, checked against the data it claims."""

    def count(x: Any) -> bool:
        return isinstance(x, int) and not isinstance(x, bool) and x >= 0

    if not isinstance(spec, dict) or set(spec) != {"dtype", "shape", "data_offsets"}:
        raise ModelFileError(f"tensor {name!r} has a malformed header entry")
    if spec["dtype"] != "F64":
        raise ModelFileError(f"tensor {name!r} has dtype {spec['dtype']!r}; models hold only F64")
    shape, offsets = spec["shape"], spec["data_offsets"]
    if not (isinstance(shape, list) and all(count(n) for n in shape)):
        raise ModelFileError(f"tensor {name!r} has a bad shape {str(shape)[:60]}")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(count(n) for n in offsets)):
        raise ModelFileError(f"tensor {name!r} has bad data offsets {str(offsets)[:60]}")
    start, end = offsets
    if not start <= end <= body_size or end - start != 8 * int(np.prod(shape, dtype=object)):
        raise ModelFileError(f"tensor {name!r}: offsets {offsets} do not fit its shape or the file")
    return start, end, tuple(shape)


def _tensors(header: dict[str, Any], body: memoryview) -> dict[str, np.ndarray]:
    spans = sorted((*_span(name, spec, len(body)), name) for name, spec in header.items())
    arrays, covered = {}, 0
    for start, end, shape, name in spans:
        if start != covered:  # safetensors data is packed: no gaps, no overlaps
            raise ModelFileError(f"tensor {name!r} overlaps another or leaves a gap")
        arrays[name] = np.frombuffer(body[start:end], dtype="<f8").reshape(shape).astype(np.float64)
        covered = end
    if covered != len(body):
        raise ModelFileError(f"{len(body) - covered} bytes after the last tensor")
    return arrays


def _read_npz(path: Path) -> tuple[dict[str, np.ndarray], str]:
    with open(path, "rb") as fh:
        if fh.read(4) != b"PK\x03\x04":
            raise ModelFileError("not an npz archive, so not a compiled rasplab model")
    with zipfile.ZipFile(path) as archive:  # stored members: memory is bounded by the file
        if any(m.compress_type != zipfile.ZIP_STORED for m in archive.infolist()):
            raise ModelFileError("holds compressed members; model files are written uncompressed")
    with np.load(path, allow_pickle=False) as z:
        if "__meta__" not in z.files:
            raise ModelFileError("an npz file, but not a compiled rasplab model")
        arrays = {k: z[k] for k in z.files if k != "__meta__"}
        meta = z["__meta__"]
    for name, a in arrays.items():
        if a.dtype.kind != "f" or a.dtype.itemsize != 8:
            raise ModelFileError(f"array {name!r} has dtype {a.dtype}; models hold only float64")
        arrays[name] = a.astype(np.float64)
    if meta.dtype != np.uint8 or meta.ndim != 1:
        raise ModelFileError("its metadata is not stored as bytes")
    return arrays, bytes(meta).decode()


def _check_identity(meta: Any) -> None:
    """A rasplab model file of the version this code reads."""
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise ModelFileError(f"not a compiled rasplab model (format {str(found)[:60]!r})")
    version = meta.get("version")
    if version == 1:
        raise ModelFileError(
            "saved by an older rasplab (model file version 1, which carries no checksum); "
            "compile the program again and save it"
        )
    if version != VERSION:
        raise ModelFileError(
            f"model file version {str(version)[:20]} is not supported "
            f"(this rasplab reads version {VERSION})"
        )


def _build(arrays: dict[str, np.ndarray], meta: Any) -> CompiledModel:
    _check_identity(meta)
    if meta.get("checksum") != checksum(arrays, meta):
        raise ModelFileError(
            "the file is damaged: its checksum does not match its contents "
            "(something changed it after it was saved); save the model again"
        )
    check_meta(meta)
    check_arrays(meta, arrays)
    try:
        info = ModelInfo.from_json(meta["info"])
    except (TypeError, ValueError) as err:
        raise ModelFileError(f"bad model info ({err})") from None
    out = meta["output"]
    output = Output(
        out["kind"],
        tuple(decode_value(v) for v in out["values"]),
        tuple(float.fromhex(c) for c in out["coords"]),
    )
    return CompiledModel(
        tuple(meta["directions"]),
        tuple(decode_value(v) for v in meta["vocab"]),
        meta["max_seq_len"],
        meta["causal"],
        arrays["embed.W_E"],
        arrays["pos_embed.W_pos"],
        tuple(_block(arrays, i, names) for i, names in enumerate(meta["head_names"])),
        arrays["unembed.W_U"],
        arrays["unembed.b_U"],
        output,
        info,
    )


def _block(arrays: dict[str, np.ndarray], i: int, names: list[str]) -> Block:
    p = f"blocks.{i}."
    attn = Attention(**{n: arrays[p + "attn." + n] for n in ATTN_PARTS}, names=tuple(names))
    mlp = MLP(**{n: arrays[p + "mlp." + n] for n in MLP_PARTS})
    return Block(attn, mlp)
