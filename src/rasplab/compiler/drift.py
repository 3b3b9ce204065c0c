"""Where a model exact in float64 goes wrong in float32, and up to which length it did not.

:func:`first_drift` runs a few inputs through the model in float32 and in
float64 and walks the residual stream part by part (the embedding, then each
layer's attention and MLP). After each part it decodes every named s-op in
both streams (a one-hot group by its largest direction, a numerical output
as the model decodes it) and stops at the first part after which the two differ:
there float32 rounding has become a wrong value. It also names the number
that part reads which drifted most, and the part that made most of that
drift. :func:`float32_reach` finds the shortest sampled length float32 got
wrong, and how many sampled inputs below it were exact.

A model whose MLP adds ``2**25 + 2`` to a direction and takes ``2**25`` off
again (float32 cannot hold the ``+ 2``) decodes ``out`` differently after it:

>>> from rasplab import aggregate, indices, map, select, tokens
>>> from rasplab.compiler import compile_program
>>> fst = aggregate(select(indices, 0, "=="), tokens).named("fst")
>>> model = compile_program(map(lambda x: x == "a", fst).named("out"), "ab", 4, verify=0)
>>> mlp, col = model.blocks[0].mlp, model.directions.index("out:False")
>>> b_out = mlp.b_out.copy()
>>> b_out[col] -= 2.0**25
>>> unit = np.eye(model.d_model)[col] * (2.0**25 + 2)  # one more unit, always 1
>>> mlp = replace(mlp, W_in=np.hstack([mlp.W_in, np.zeros((model.d_model, 1))]),
...               b_in=np.append(mlp.b_in, 1.0), W_out=np.vstack([mlp.W_out, unit]), b_out=b_out)
>>> drift = first_drift(replace(model, blocks=(replace(model.blocks[0], mlp=mlp),)), ["aa"])
>>> drift.component, drift.sop, drift.position, drift.float32, drift.float64
('the MLP of layer 1', 'out', 0, 'True', 'False')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..lang.nodes import SOp
from ..model.activations import activations
from ..model.model import CompiledModel
from .verify import verify

__all__ = ["Drift", "Reach", "first_drift", "float32_reach", "MAX_INPUTS"]

MAX_INPUTS = 3  # the shortest failing inputs looked at: one forward pass per dtype each
FLOAT32_EPS = float(np.finfo(np.float32).eps)
ONE_HOT_MARGIN = 0.5  # a group float64 decodes by less than this is not yet written there


@dataclass(frozen=True)
class Drift:
    """The first part of the model after which float32 decodes an s-op differently."""

    component: str  # "head ralign of layer 2", "the MLP of layer 1", "the embedding"
    sop: str  # the s-op decoded differently after it
    length: int  # of the input
    position: int  # where, as a RASP index (0 is the first token)
    float32: str  # the value float32 decodes there
    float64: str  # the value float64 decodes there
    read: str | None = None  # the direction it reads that drifted most (None: none drifted)
    drift: float = 0.0  # float32 minus float64 of ``read``
    read_position: int = 0  # where ``read`` drifted most
    made_by: str | None = None  # the part that added most of that drift

    def __str__(self) -> str:
        text = (
            f"the drift becomes an error at {self.component}: on an input of length "
            f"{self.length}, at position {self.position} float32 decodes {self.sop} as "
            f"'{self.float32}' where float64 decodes '{self.float64}'"
        )
        if self.read is None:
            return text
        text += (
            f"; of what it reads, {self.read} drifts most: by {self.drift:.3g} (float32 minus "
            f"float64) at position {self.read_position}"
        )
        return text + (f", made by {self.made_by}" if self.made_by else "")


@dataclass(frozen=True)
class Reach:
    """How far float32 was exact on the sampled inputs (a sample, not a proof)."""

    shortest_wrong: int  # the shortest sampled length float32 got wrong
    exact_up_to: int  # every sampled input up to this length was exact (0: none shorter)
    n_exact: int  # the sampled inputs up to ``exact_up_to``
    wrong: tuple[tuple[Any, ...], ...] = ()  # found shorter than the one known wrong

    def __str__(self) -> str:
        text = f"The shortest sampled input float32 got wrong has length {self.shortest_wrong}"
        if self.exact_up_to < 1:
            return text + ", and no shorter one was sampled: compile for a smaller max_seq_len"
        return (
            f"{text}; every sampled input up to length {self.exact_up_to} ({self.n_exact} of "
            "them) was exact in float32 (a sample, not a proof). Compile for a smaller "
            f"max_seq_len: this model holds to about {self.exact_up_to}, and one built for a "
            "shorter max_seq_len computes smaller numbers, which drift less"
        )


def float32_reach(
    model: CompiledModel,
    program: SOp,
    inputs: Sequence[Sequence[Any]],
    shortest_known: int,
    looks_back: bool = False,
) -> Reach:
    """The shortest length of ``inputs`` float32 gets wrong, given a wrong one of length
    ``shortest_known``, and the sampled lengths below it that were exact.

    Only the inputs shorter than ``shortest_known`` run again, one length at a
    time from the shortest, and the first length with a wrong input stops it.
    """
    by_length: dict[int, list[list[Any]]] = {}
    for xs in inputs:
        if len(xs) < shortest_known:
            by_length.setdefault(len(xs), []).append(list(xs))
    exact_up_to, n_exact = 0, 0
    for length in sorted(by_length):
        found = verify(model, program, inputs=by_length[length], looks_back=looks_back)
        if found.n_inputs and not found.exact:
            wrong = tuple(tuple(m.input) for m in found.mismatches)
            return Reach(length, exact_up_to, n_exact, wrong)
        if found.n_inputs:  # a length the evaluator rejected throughout says nothing
            exact_up_to, n_exact = length, n_exact + found.n_inputs
    return Reach(shortest_known, exact_up_to, n_exact)


def first_drift(model: CompiledModel, inputs: Sequence[Sequence[Any]]) -> Drift | None:
    """The earliest part after which float32 and float64 decode an s-op differently, over
    the ``MAX_INPUTS`` shortest ``inputs`` (None where they agree throughout)."""
    found: list[tuple[int, Drift]] = []
    for xs in sorted(inputs, key=len)[:MAX_INPUTS]:
        hit = _drift_in(model, xs)
        if hit is not None:
            found.append(hit)
    return min(found, key=lambda hit: hit[0])[1] if found else None


@dataclass(frozen=True)
class _Part:
    """One part that adds to the residual stream, and the streams around it."""

    kind: str  # "embed" | "attn" | "mlp"
    block: int
    before: str  # hook of the stream it reads ("" for the embedding)
    after: str  # hook of the stream once it has added its output


def _parts(model: CompiledModel) -> list[_Part]:
    parts = [_Part("embed", -1, "", "blocks.0.hook_resid_pre")] if model.blocks else []
    for b, block in enumerate(model.blocks):
        p = f"blocks.{b}."
        if block.attn.n_heads:
            parts.append(_Part("attn", b, p + "hook_resid_pre", p + "hook_resid_mid"))
        if block.mlp.d_mlp:
            parts.append(_Part("mlp", b, p + "hook_resid_mid", p + "hook_resid_post"))
    return parts


def _drift_in(model: CompiledModel, xs: Sequence[Any]) -> tuple[int, Drift] | None:
    """(the index of the part, the drift) for one input: a forward pass per dtype."""
    ids = model.encode(xs, check_domain=False)[None]
    wide, narrow = activations(model, ids, np.float64), activations(model, ids, np.float32)
    decoded = [model.decode(a["logits"])[0] for a in (wide, narrow)]
    output_differs = np.array([False, *(a != b for a, b in zip(*decoded, strict=True))])
    groups = _groups(model)
    for i, part in enumerate(_parts(model)):
        x64, x32 = wide[part.after][0], narrow[part.after][0].astype(np.float64)
        parted = _parted(model, groups, x64, x32, output_differs)
        if parted is None:
            continue
        sop, cols, pos, got, want = parted
        drift = Drift(_name(model, part, cols), sop, len(xs), pos - 1, got, want)
        return i, _with_source(model, drift, part, cols, wide, narrow)
    return None


def _groups(model: CompiledModel) -> dict[str, list[int]]:
    """One-hot groups ``name:value`` of two or more directions, by s-op name."""
    groups: dict[str, list[int]] = {}
    for j, direction in enumerate(model.directions):
        name, colon, _ = direction.partition(":")
        if colon:
            groups.setdefault(name, []).append(j)
    return {name: cols for name, cols in groups.items() if len(cols) > 1}


def _output(model: CompiledModel, x: np.ndarray) -> np.ndarray:
    """The output each position of stream ``x`` decodes to (None at BOS), read by the
    unembedding in x's own dtype."""
    w = model.weights(x.dtype)
    values = model.decode((x @ w["unembed.W_U"] + w["unembed.b_U"])[None])[0]
    return np.array([None, *values], dtype=object)


_Parting = tuple[str, list[int], int, str, str]  # s-op, its directions, position, f32, f64


def _parted(
    model: CompiledModel,
    groups: dict[str, list[int]],
    x64: np.ndarray,
    x32: np.ndarray,
    output_differs: np.ndarray,
) -> _Parting | None:
    """(s-op, its directions, position, float32 value, float64 value) of the first s-op
    the two streams decode differently, at a position whose output differs if any."""
    candidates = []
    for name, cols in groups.items():
        order64 = np.sort(x64[:, cols], axis=1)
        written = order64[:, -1] - order64[:, -2] > ONE_HOT_MARGIN
        pick64, pick32 = x64[:, cols].argmax(axis=1), x32[:, cols].argmax(axis=1)
        label = [model.directions[j].partition(":")[2] for j in cols]
        for pos in np.flatnonzero(written & (pick64 != pick32) & (np.arange(len(x64)) > 0)):
            candidates.append((name, cols, int(pos), label[pick32[pos]], label[pick64[pos]]))
    candidates += _numerical_output(model, x64, x32)
    if not candidates:
        return None
    return min(candidates, key=lambda c: (not output_differs[c[2]], c[2]))


def _numerical_output(model: CompiledModel, x64: np.ndarray, x32: np.ndarray) -> list[_Parting]:
    """Where a numerical output decodes differently (a categorical one is a group)."""
    if model.output.kind != "numerical":
        return []
    out64, out32 = _output(model, x64), _output(model, x32.astype(np.float32))
    cols = [int(j) for j in np.flatnonzero(np.any(model.W_U != 0, axis=1))]
    name = _sop(model, cols)
    return [
        (name, cols, int(pos), str(out32[pos]), str(out64[pos]))
        for pos in np.flatnonzero(out64[1:] != out32[1:]) + 1
    ]


def _sop(model: CompiledModel, cols: list[int]) -> str:
    names = {model.directions[j].partition(":")[0] for j in cols}
    return ", ".join(sorted(names)) if names else model.info.program or "the output"


def _writers(model: CompiledModel, block: int, cols: list[int]) -> list[int]:
    """The heads of ``block`` that write any of the directions ``cols``."""
    w_o = model.blocks[block].attn.W_O  # [heads, d_head, d_model]
    return [h for h in range(w_o.shape[0]) if np.any(w_o[h][:, cols] != 0)]


def _name(model: CompiledModel, part: _Part, cols: list[int]) -> str:
    """The part as messages name it: ``head sop of layer 2``, ``the MLP of layer 1``."""
    if part.kind == "embed":
        return "the embedding"
    if part.kind == "mlp":
        return f"the MLP of layer {part.block + 1}"
    attn = model.blocks[part.block].attn
    heads = _writers(model, part.block, cols) or list(range(attn.n_heads))
    names = [attn.names[h] if h < len(attn.names) else str(h) for h in heads]
    return f"head{'s' if len(names) > 1 else ''} {', '.join(names)} of layer {part.block + 1}"


def _reads(model: CompiledModel, part: _Part, cols: list[int]) -> np.ndarray:
    """Whether the part reads each direction (any non-zero weight on it)."""
    if part.kind == "mlp":
        return np.any(model.blocks[part.block].mlp.W_in != 0, axis=1)
    attn = model.blocks[part.block].attn
    heads = _writers(model, part.block, cols) or list(range(attn.n_heads))
    weights = np.concatenate([w[heads] for w in (attn.W_Q, attn.W_K, attn.W_V)], axis=0)
    return np.any(weights != 0, axis=(0, 2))


def _with_source(
    model: CompiledModel, drift: Drift, part: _Part, cols: list[int], wide: dict, narrow: dict
) -> Drift:
    """``drift`` with the direction the part reads that drifted most, and who made it."""
    if part.kind == "embed":
        return drift
    x64 = wide[part.before][0, 1:]
    gap = narrow[part.before][0, 1:].astype(np.float64) - x64
    # below float32's resolution of the value, a difference is rounding, not drift
    gap[np.abs(gap) <= FLOAT32_EPS * np.maximum(1.0, np.abs(x64))] = 0.0
    gap[:, ~_reads(model, part, cols)] = 0.0
    pos, col = np.unravel_index(np.abs(gap).argmax(), gap.shape)
    if gap[pos, col] == 0:
        return drift
    read, maker = model.directions[col], _maker(model, part, int(col), wide, narrow)
    return replace(
        drift, read=read, drift=float(gap[pos, col]), read_position=int(pos), made_by=maker
    )


def _maker(model: CompiledModel, reader: _Part, col: int, wide: dict, narrow: dict) -> str | None:
    """The part before ``reader`` that added most to the drift of direction ``col``."""
    grown: list[tuple[float, _Part]] = []
    before = 0.0
    for part in _parts(model):
        if part == reader:
            break
        gap = narrow[part.after][0, 1:, col].astype(np.float64) - wide[part.after][0, 1:, col]
        largest = float(np.abs(gap).max(initial=0.0))
        grown.append((largest - before, part))
        before = largest
    if not grown:
        return None
    growth, maker = max(grown, key=lambda g: g[0])
    return _name(model, maker, [col]) if growth > 0 else None
