"""Stage 5, with :mod:`.blocks`: named weights as the dense arrays of a CompiledModel.

Directions are ``bos``, ``one``, then every stored feature's directions in
the order they are written. Each layer gets exactly the heads, ``d_head``
and MLP width it needs (no padding to the widest layer).

BOS stays clean: the BOS query attends only to itself, so every head writes
its default-value vector at BOS; one MLP unit per layer (reading ``bos``)
subtracts it again, and every other MLP unit gets a ``bos`` weight that
keeps it off at BOS. The residual at BOS is ``bos + one`` before every
layer, so keys and values read there are exactly what the heads expect.
The last layer needs no cleanup unit: no head reads BOS after it, and the
output at BOS is never decoded (this often spares the last MLP entirely).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..lang.graph import topological_order, value_key
from ..lang.nodes import Indices, SOp, Tokens
from ..model.info import ModelInfo
from ..model.model import MLP, Attention, Block, CompiledModel, Output
from .blocks import HeadWeights, build_head
from .domains import Fused, _Failed
from .features import Feature
from .plans import Layout
from .schedule import merge_heads
from .storage import Storage
from .units import BOS, ONE, Unit

__all__ = ["assemble"]


def _embedding(
    layout: Layout, program: SOp, vocab: Sequence[Any], n_max: int, index: dict[str, int]
) -> tuple[np.ndarray, np.ndarray]:
    in_program = {n.id: n for n in topological_order(program) if isinstance(n, SOp)}
    nodes = {**layout.nodes, **in_program}  # every s-op a feature may name
    toks = [n for n in nodes.values() if isinstance(n, Tokens)]
    idxs = [n for n in nodes.values() if isinstance(n, Indices)]
    w_e = np.zeros((len(vocab) + 1, len(index)))  # [d_vocab, d_model]
    w_pos = np.zeros((n_max + 1, len(index)))  # [n_ctx, d_model]
    w_e[:, index[ONE]] = 1.0
    w_e[0, index[BOS]] = 1.0
    for f in layout.features:
        if f.producer != "embed":
            continue
        node = nodes[f.key[0]]
        lexical = not any(isinstance(n, Indices) for n in topological_order(node))
        sources, table, size = (toks, w_e, len(vocab)) if lexical else (idxs, w_pos, n_max)
        fused = None if any(node is s for s in sources) else Fused(node, sources)
        for row in range(size):
            given = vocab[row] if lexical else row
            try:
                value = fused({s.id: given for s in sources}) if fused else given
            except _Failed:
                continue
            _write(table, row + 1, f, value, index)
    return w_e, w_pos


def _write(table: np.ndarray, row: int, f: Feature, value: Any, index: dict[str, int]) -> None:
    i = f.index.get(value_key(value))
    if i is None:
        return
    for d, w in f.writes[i].items():
        table[row, index[d]] += w


def _attention(heads: list[HeadWeights], index: dict[str, int]) -> Attention:
    d, n = len(index), len(heads)
    d_head = max((max(h.d_qk, h.d_v) for h in heads), default=0)
    w = {k: np.zeros((n, d, d_head)) for k in ("W_Q", "W_K", "W_V")}
    w_o = np.zeros((n, d_head, d))
    for j, h in enumerate(heads):
        for name, table in (("W_Q", h.q), ("W_K", h.k), ("W_V", h.v)):
            for (direction, dim), value in table.items():
                w[name][j, index[direction], dim] += value
        for (dim, direction), value in h.o.items():
            w_o[j, dim, index[direction]] += value
    zeros = np.zeros((n, d_head))
    return Attention(
        w["W_Q"],
        w["W_K"],
        w["W_V"],
        w_o,
        zeros,
        zeros.copy(),
        zeros.copy(),
        np.zeros(d),
        tuple(h.name for h in heads),
    )


BOS_SLACK = 1e-3  # of the reach of an MLP unit's inputs at BOS, beyond the 1 that keeps it off


def _bos_output(attn: Attention, index: dict[str, int]) -> np.ndarray:
    """What the heads add at BOS (the BOS query attends only to BOS)."""
    r0 = np.zeros(len(index))
    r0[index[BOS]] = r0[index[ONE]] = 1.0
    out = np.zeros(len(index))
    for h in range(attn.n_heads):
        out += (r0 @ attn.W_V[h]) @ attn.W_O[h]
    return out


def _mlp(units: Sequence[Unit], bos_out: np.ndarray, index: dict[str, int], last: bool) -> MLP:
    d = len(index)
    cleanup = bool(np.any(bos_out)) and not last
    n = len(units) + int(cleanup)
    w_in, w_out = np.zeros((d, n)), np.zeros((n, d))  # [d_model, d_mlp], [d_mlp, d_model]
    for u, unit in enumerate(units):
        for direction, value in unit.w_in.items():
            w_in[index[direction], u] += value
        for direction, value in unit.w_out.items():
            w_out[u, index[direction]] += value
    r1 = bos_out.copy()
    r1[index[BOS]] += 1.0
    r1[index[ONE]] += 1.0
    pre = r1 @ w_in[:, : len(units)]  # pre-activations at BOS
    # off by 1, and by more where the unit reads large numbers: BOS's own values carry
    # rounding (a count head's weight, in proportion to itself), which a steep unit
    # multiplies; BOS_SLACK of its inputs' reach keeps it off whatever they round to
    reach = np.abs(r1) @ np.abs(w_in[:, : len(units)])
    w_in[index[BOS], : len(units)] -= pre + 1.0 + BOS_SLACK * reach
    if cleanup:
        w_in[index[BOS], -1] = 1.0
        w_out[-1] = -bos_out
    return MLP(w_in, np.zeros(n), w_out, np.zeros(d))


def _output(
    f: Feature, index: dict[str, int], scalar_logits: bool
) -> tuple[np.ndarray, np.ndarray, Output]:
    """Unembedding: one logit per value (categorical) or the scalar (numerical)."""
    if scalar_logits:
        return _scalar_logits(f, index)
    w_u = np.zeros((len(index), len(f.readouts)))  # [d_model, d_out]
    for j, readout in enumerate(f.readouts):
        for direction, w in readout.items():
            w_u[index[direction], j] += w
    b_u = np.zeros(w_u.shape[1])
    if f.kind is Storage.ONE_HOT:
        return w_u, b_u, Output("categorical", f.values)
    best: dict[float, Any] = {}
    for c, i in sorted(zip(f.coords, range(len(f.values)), strict=True)):
        v = f.values[i]
        if c not in best or (isinstance(v, int) and not isinstance(v, bool)):
            best[c] = v
    return w_u, b_u, Output("numerical", tuple(best.values()), tuple(best))


def _scalar_logits(f: Feature, index: dict[str, int]) -> tuple[np.ndarray, np.ndarray, Output]:
    """Logits over the values of a categorical output stored as one scalar ``x``.

    In units ``u = (x - mid) / gap`` and ``c = (v - mid) / gap``, value ``v`` gets
    ``2 c u - c**2 = u**2 - (u - c)**2``: the nearest value wins, by 1 where ``x``
    is exactly a value and by 1/2 while ``x`` is within a quarter gap of it.
    """
    coords = np.asarray(f.coords, dtype=np.float64)
    gap = float(np.diff(np.sort(coords)).min())
    mid = float(coords.min() + coords.max()) / 2.0
    c = (coords - mid) / gap  # [d_out]
    w_u = np.zeros((len(index), len(coords)))  # [d_model, d_out]
    for direction, w in f.readouts[0].items():
        w_u[index[direction]] += w * 2.0 * c / gap
    b_u = -2.0 * c * mid / gap - c**2
    return w_u, b_u, Output("categorical", f.values)


def assemble(
    layout: Layout,
    program: SOp,
    vocab: Sequence[Any],
    max_seq_len: int,
    causal: bool,
    info: ModelInfo,
) -> CompiledModel:
    directions = [BOS, ONE] + [d for f in layout.features for d in f.directions]
    index = {d: i for i, d in enumerate(directions)}
    w_e, w_pos = _embedding(layout, program, list(vocab), max_seq_len, index)
    blocks = []
    for b in range(layout.n_blocks):
        groups = merge_heads([h for h in layout.heads if h.block == b])
        heads = [
            build_head(g, "+".join(h.output.name for h in g), max_seq_len, layout.count_scale)
            for g in groups
        ]
        attn = _attention(heads, index)
        units = [u for m in layout.mlps if m.block == b for u in m.spec.units]
        last = b == layout.n_blocks - 1
        blocks.append(Block(attn, _mlp(units, _bos_output(attn, index), index, last)))
    w_u, b_u, output = _output(layout.output, index, layout.scalar_logits)
    return CompiledModel(
        tuple(directions),
        tuple(vocab),
        max_seq_len,
        causal,
        w_e,
        w_pos,
        tuple(blocks),
        w_u,
        b_u,
        output,
        info,
    )
