"""What a model file must satisfy before it becomes a model: nothing is taken on trust.

A file is checked in this order: its JSON is bounded in size and depth, it
says it is a rasplab model of the current version, its checksum matches
its contents (so a flipped byte is caught), its metadata has every field
with the right type, and every array has exactly the shape the metadata
implies and holds only finite numbers. A failure is a :class:`ModelFileError`
saying what is wrong; :mod:`rasplab.model.io` adds the path.

>>> arrays = {"w": np.zeros((2, 3))}
>>> checksum(arrays, {"format": "x"}) == checksum(arrays, {"format": "x"})
True
>>> checksum(arrays, {"format": "x"}) == checksum({"w": np.ones((2, 3))}, {"format": "x"})
False
>>> parse_json("[" * 100_000, "header")
Traceback (most recent call last):
...
rasplab.model.filecheck.ModelFileError: its header is nested too deeply to be a model's
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import RaspError

__all__ = [
    "ModelFileError",
    "OutputPathError",
    "MAX_HEADER_BYTES",
    "MAX_SEQ_LEN",
    "MAX_BLOCKS",
    "parse_json",
    "checksum",
    "weights_digest",
    "check_certificate_weights",
    "check_meta",
    "check_arrays",
    "expected_shapes",
]

MAX_HEADER_BYTES = 16 * 1024 * 1024  # a real header is a few kB; this bounds a hostile one
MAX_SEQ_LEN = 1_000_000
MAX_BLOCKS = 10_000
META_KEYS = frozenset(
    {"format", "version", "checksum", "directions", "vocab", "max_seq_len", "causal"}
    | {"n_blocks", "head_names", "output", "info"}
)
OUTPUT_KINDS = ("categorical", "numerical")
ATTN_PARTS = ("W_Q", "W_K", "W_V", "W_O", "b_Q", "b_K", "b_V", "b_O")
MLP_PARTS = ("W_in", "b_in", "W_out", "b_out")


class ModelFileError(RaspError):
    """A model file cannot be read: not a compiled rasplab model, damaged, or too old."""


class OutputPathError(ModelFileError):
    """A model cannot be written where asked: a suffix other than ``.safetensors``
    (``.npz`` included: no longer written), a missing folder, no permission."""


def _show(value: Any) -> str:
    """``repr`` cut short, so that a hostile value cannot flood a message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_json(text: str | bytes, what: str) -> Any:
    """JSON of at most ``MAX_HEADER_BYTES``, never a RecursionError."""
    if len(text) > MAX_HEADER_BYTES:
        raise ModelFileError(
            f"its {what} has {len(text):,} bytes, over the limit of "
            f"{MAX_HEADER_BYTES:,} bytes (16 MiB)"
        )
    try:
        return json.loads(text)
    except RecursionError:
        raise ModelFileError(f"its {what} is nested too deeply to be a model's") from None
    except ValueError as err:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise ModelFileError(f"its {what} is not valid JSON ({err})") from None


def checksum(arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> str:
    """sha256 of the metadata (canonical JSON, no ``checksum`` field) and every array's
    name, dtype, shape and little-endian float64 bytes, in name order."""
    digest = hashlib.sha256()
    fields = {k: v for k, v in meta.items() if k != "checksum"}
    digest.update(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode())
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name], dtype="<f8")
        digest.update(b"\0" + json.dumps([name, "<f8", list(a.shape)]).encode() + b"\0")
        digest.update(a.tobytes())
    return "sha256:" + digest.hexdigest()


def weights_digest(arrays: Mapping[str, np.ndarray]) -> str:
    """sha256 (hex) of the weights alone: every array's name, shape and little-endian
    float64 bytes, in name order. A certificate records it for the weights it proved."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name], dtype="<f8")
        digest.update(b"\0" + json.dumps([name, list(a.shape)]).encode() + b"\0")
        digest.update(a.tobytes())
    return digest.hexdigest()


def check_certificate_weights(certified: str | None, arrays: Mapping[str, np.ndarray]) -> None:
    """ModelFileError when a certificate was made for other weights than ``arrays``."""
    if certified is not None and certified != weights_digest(arrays):
        raise ModelFileError(
            "its certificate does not match its weights: the weights were changed after the "
            "certificate was made (it was proved for weights with sha256 "
            f"{certified[:12]}...), so its claims are void; compile the program again"
        )


def _int(meta: Mapping[str, Any], key: str, low: int, high: int) -> int:
    value = meta[key]
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ModelFileError(
            f"metadata field {key!r} must be an int from {low} to {high:,}, got {_show(value)}"
        )
    return value


def _list(value: Any, name: str, item: type | None = None) -> list[Any]:
    if not isinstance(value, list) or (item and not all(isinstance(x, item) for x in value)):
        kind = f"a list of {item.__name__}" if item else "a list"
        raise ModelFileError(f"metadata field {name!r} must be {kind}, got {_show(value)}")
    return value


def _keys(data: Any, keys: frozenset[str], name: str) -> None:
    """``data`` is a JSON object with exactly ``keys``."""
    if not isinstance(data, dict):
        raise ModelFileError(f"{name} must be a JSON object, got {_show(data)}")
    missing, unknown = sorted(keys - set(data)), sorted(set(data) - keys)
    if missing:
        raise ModelFileError(f"{name} lacks the fields {missing}")
    if unknown:
        raise ModelFileError(f"{name} has unknown fields {_show(unknown)}")


def check_meta(meta: dict[str, Any]) -> None:
    """Every metadata field present, of the right type, within bounds."""
    _keys(meta, META_KEYS, "the metadata")
    directions = _list(meta["directions"], "directions", str)
    if not directions or len(set(directions)) != len(directions):
        raise ModelFileError("metadata field 'directions' must be distinct names, at least one")
    if not _list(meta["vocab"], "vocab"):
        raise ModelFileError("metadata field 'vocab' is empty")
    _int(meta, "max_seq_len", 1, MAX_SEQ_LEN)
    if not isinstance(meta["causal"], bool):
        raise ModelFileError(
            f"metadata field 'causal' must be true or false, got {meta['causal']!r}"
        )
    n_blocks = _int(meta, "n_blocks", 0, MAX_BLOCKS)
    heads = _list(meta["head_names"], "head_names", list)
    if len(heads) != n_blocks:
        raise ModelFileError(f"'head_names' lists {len(heads)} blocks, but n_blocks is {n_blocks}")
    for i, names in enumerate(heads):
        _list(names, f"head_names[{i}]", str)
    _check_output(meta["output"])


def _check_output(out: Any) -> None:
    _keys(out, frozenset({"kind", "values", "coords"}), "metadata field 'output'")
    if out["kind"] not in OUTPUT_KINDS:
        raise ModelFileError(f"output kind {_show(out['kind'])} is not one of {OUTPUT_KINDS}")
    values = _list(out["values"], "output.values")
    coords = _list(out["coords"], "output.coords", str)
    if not values:
        raise ModelFileError("metadata field 'output.values' is empty")
    if out["kind"] == "categorical" and coords:
        raise ModelFileError("a categorical output has no coordinates")
    if out["kind"] == "numerical" and len(coords) != len(values):
        raise ModelFileError(
            f"a numerical output has {len(values)} values but {len(coords)} coordinates"
        )


def expected_shapes(meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> dict:
    """Each array's shape as the metadata implies it (``d_head``, ``d_mlp`` read off
    ``W_Q`` and ``W_in``, which the other arrays of the block must then match)."""
    d = len(meta["directions"])
    out = meta["output"]
    d_out = len(out["values"]) if out["kind"] == "categorical" else 1
    shapes = {
        "embed.W_E": (len(meta["vocab"]) + 1, d),
        "pos_embed.W_pos": (meta["max_seq_len"] + 1, d),
        "unembed.W_U": (d, d_out),
        "unembed.b_U": (d_out,),
    }
    for i, names in enumerate(meta["head_names"]):
        p, h = f"blocks.{i}.", len(names)
        w_q, w_in = arrays[p + "attn.W_Q"], arrays[p + "mlp.W_in"]
        e = w_q.shape[2] if w_q.ndim == 3 else -1
        m = w_in.shape[1] if w_in.ndim == 2 else -1
        attn = [(h, d, e)] * 3 + [(h, e, d)] + [(h, e)] * 3 + [(d,)]
        shapes.update({p + "attn." + n: s for n, s in zip(ATTN_PARTS, attn, strict=True)})
        mlp = [(d, m), (m,), (m, d), (d,)]
        shapes.update({p + "mlp." + n: s for n, s in zip(MLP_PARTS, mlp, strict=True)})
    return shapes


def _names(n_blocks: int) -> set[str]:
    names = {"embed.W_E", "pos_embed.W_pos", "unembed.W_U", "unembed.b_U"}
    for i in range(n_blocks):
        names.update(f"blocks.{i}.attn.{n}" for n in ATTN_PARTS)
        names.update(f"blocks.{i}.mlp.{n}" for n in MLP_PARTS)
    return names


def check_arrays(meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
    """Exactly the arrays of ``n_blocks`` blocks, each of the implied shape, all finite."""
    want = _names(meta["n_blocks"])
    missing, unexpected = sorted(want - set(arrays)), sorted(set(arrays) - want)
    if missing:
        raise ModelFileError(
            f"arrays {_show(missing)} are missing (n_blocks is {meta['n_blocks']})"
        )
    if unexpected:
        raise ModelFileError(
            f"unexpected arrays {_show(unexpected)} (n_blocks is {meta['n_blocks']})"
        )
    for name, shape in expected_shapes(meta, arrays).items():
        if arrays[name].shape != shape:
            raise ModelFileError(
                f"array {name!r} has shape {list(arrays[name].shape)}, but the metadata "
                f"implies {list(shape)} (d_model = {len(meta['directions'])} directions, "
                f"d_vocab = {len(meta['vocab'])} tokens + BOS, n_ctx = max_seq_len + 1)"
            )
        if not np.isfinite(arrays[name]).all():
            raise ModelFileError(f"array {name!r} holds values that are not finite")
