"""Saving and loading compiled models as ``.safetensors`` files, never pickle.

The container is written and read by the ``safetensors`` package
(``safetensors.numpy``), so any tool that opens safetensors files (the
package itself in numpy or PyTorch, TransformerLens through a
``state_dict``) can read the weights: raw float64 arrays under their
TransformerLens names, so a round trip is bit-exact. Everything else
(directions, vocabulary, output values, notes) is one JSON string under the
header's ``__metadata__["rasplab"]``, with values tagged by type so that
``1``, ``1.0``, ``True`` and ``"1"`` come back as they went in;
docs/model-format.md describes every key.

The package checks the container (offsets, coverage, dtypes it knows); a
file also carries a sha256 checksum of its metadata and arrays, and loading
checks it, a 16 MiB cap on the header, the metadata's depth and every shape
(see :mod:`rasplab.model.filecheck`): a damaged or inconsistent file is a
:class:`ModelFileError`, never a model that answers wrongly. Files of format
version 1 had no checksum; they are refused with a message asking to compile
the program again. ``.npz`` files, which rasplab wrote before the package
was a dependency, are refused with a message naming ``.safetensors``.

>>> decode_value(encode_value((1, 1.5, True, "a", None)))
(1, 1.5, True, 'a', None)
>>> try:
...     save(None, "model.txt")
... except OutputPathError as err:
...     print(err)
cannot save a model as 'model.txt': the name must end in .safetensors
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import safetensors
import safetensors.numpy

from .filecheck import (
    ATTN_PARTS,
    MAX_HEADER_BYTES,
    MLP_PARTS,
    ModelFileError,
    OutputPathError,
    check_arrays,
    check_certificate_weights,
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
SUFFIXES = (".safetensors",)
METADATA_KEY = "rasplab"  # the entry of the header's __metadata__ holding our JSON


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
    error = OutputPathError if doing == "save" else ModelFileError
    if path.suffix == ".npz":
        raise error(
            f"cannot {doing} a model as '{path}': rasplab no longer reads or writes .npz model "
            "files; use a name ending in .safetensors (compile the program again to get one)"
        )
    if path.suffix not in SUFFIXES:
        raise error(
            f"cannot {doing} a model as '{path}': the name must end in {' or '.join(SUFFIXES)}"
        )


def save(model: CompiledModel, path: str | Path) -> Path:
    """Write ``model`` to ``path`` (a ``.safetensors`` name); returns the path.

    OutputPathError (a ModelFileError) for another suffix or a path that
    cannot be written, saying why.
    """
    path = Path(path)
    _check_suffix(path, "save")
    arrays = {k: np.ascontiguousarray(v, dtype=np.float64) for k, v in model.arrays().items()}
    write_file(path, arrays, _meta(model))
    return path


def write_file(path: Path, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    """Write ``arrays`` and ``meta`` (its checksum filled in) as a safetensors file."""
    meta = {**meta, "checksum": checksum(arrays, meta)}
    text = json.dumps(meta, sort_keys=True)
    try:
        safetensors.numpy.save_file(arrays, str(path), metadata={METADATA_KEY: text})
    except safetensors.SafetensorError as err:  # the package reports I/O errors as its own
        reason = str(err).removeprefix("Error while serializing: ")
        raise OutputPathError(f"cannot write the model to '{path}': {reason}") from None


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
    except (ValueError, KeyError, TypeError, IndexError, RecursionError) as err:
        raise ModelFileError(f"'{path}': not a readable compiled model ({err})") from None


def read_file(path: Path) -> tuple[dict[str, np.ndarray], Any]:
    """The arrays and the parsed metadata of a model file, checked only as a container."""
    _check_header_length(path)
    try:
        with safetensors.safe_open(str(path), framework="np") as fh:
            header_meta = fh.metadata() or {}
            arrays = {name: fh.get_tensor(name) for name in fh.keys()}  # noqa: SIM118
    except safetensors.SafetensorError as err:
        raise ModelFileError(f"not a readable safetensors file ({err})") from None
    text = header_meta.get(METADATA_KEY)
    if text is None:
        found = sorted(header_meta)[:5]
        raise ModelFileError(
            "a safetensors file, but not a compiled rasplab model: its header has no "
            f"__metadata__ entry {METADATA_KEY!r} (the JSON with format, version, vocab, "
            f"directions, output...; metadata keys found: {found})"
        )
    for name, a in arrays.items():
        if a.dtype != np.float64:
            raise ModelFileError(f"array {name!r} has dtype {a.dtype}; models hold only float64")
    return arrays, parse_json(text, "metadata")


def _check_header_length(path: Path) -> None:
    """Refuse a header over our cap before the package reads it (its own cap is larger):
    a model's header is a few kB, so a huge one is hostile or not a model."""
    with open(path, "rb") as fh:
        prefix = fh.read(8)
    size = int.from_bytes(prefix, "little") if len(prefix) == 8 else 0
    if size > MAX_HEADER_BYTES:
        raise ModelFileError(
            f"not a readable safetensors file (its header length {size:,} is over the limit "
            f"of {MAX_HEADER_BYTES:,} bytes, 16 MiB)"
        )


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
    if info.certificate is not None:
        check_certificate_weights(info.certificate.weights_sha256, arrays)
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
