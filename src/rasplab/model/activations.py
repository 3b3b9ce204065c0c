"""Every activation of a compiled model, read by position and direction name.

:func:`activations` runs the numpy forward pass and keeps each activation
under its TransformerLens hook name (``blocks.1.hook_resid_mid``,
``blocks.0.attn.hook_pattern``, ...). :class:`Activations` wraps them so that
any residual-shaped activation reads as a :class:`~rasplab.model.NamedMatrix`
with positions as rows and residual directions as columns, which answers
questions like "what did head 1.0 write into ``sort:*`` on this input?":

>>> from rasplab.compiler import compile_program
>>> from rasplab.library import sort
>>> model = compile_program(sort(), "abc", 4, verify=0)
>>> outputs, cache = model.run_with_cache(["cab"])
>>> outputs
[['a', 'b', 'c']]
>>> write = cache.named("blocks.1.attn.hook_result", head=0)
>>> {pos: col for (pos, col), v in write.loc("[1-9]*", "sort:*").nonzero(0.5).items()}
{'1:c': 'sort:a', '2:a': 'sort:b', '3:b': 'sort:c'}

(``[1-9]*`` skips the BOS row ``0:<bos>``, where every head writes its
default value and the next MLP removes it again.)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from ..errors import InputError, RaspError
from .forward import _attention, _mlp, check_ids, softmax
from .inputs import as_batch
from .model import BOS_TOKEN, CompiledModel, NamedMatrix

__all__ = ["Activations", "activations", "token_ids"]


def token_ids(
    model: CompiledModel, inputs: Any, *, check_domain: bool = True, method: str = "activations"
) -> np.ndarray:
    """Token ids ``[batch, pos]``: ``inputs`` as ids already, or a batch of equal-length inputs.

    A batch is a list of inputs (each a string or a list of tokens); a bare
    string is one input, so it is refused here (see :func:`as_batch`).
    """
    if isinstance(inputs, np.ndarray) and inputs.dtype.kind in "iu":
        check_ids(model, inputs)
        return inputs
    rows = [model.encode(xs, check_domain=check_domain) for xs in as_batch(inputs, method)]
    if not rows:
        raise InputError("an empty batch: give at least one input")
    if len({len(r) for r in rows}) != 1:
        lengths = sorted({len(r) - 1 for r in rows})
        raise InputError(
            f"inputs must all have the same length, got lengths {lengths} "
            "(run each length in its own call)"
        )
    return np.stack(rows)


def _pattern(x: np.ndarray, w: dict, prefix: str, causal: bool) -> np.ndarray:
    """Attention weights ``[batch, heads, query, key]`` of one layer, as the forward pass."""
    q = np.einsum("bpd,hde->bhpe", x, w[prefix + "W_Q"]) + w[prefix + "b_Q"][:, None]
    k = np.einsum("bpd,hde->bhpe", x, w[prefix + "W_K"]) + w[prefix + "b_K"][:, None]
    scores = q @ k.transpose(0, 1, 3, 2)  # [batch, heads, query, key]
    if causal:
        n = x.shape[1]
        scores = np.where(np.tril(np.ones((n, n), dtype=bool)), scores, -np.inf)
    return softmax(scores)


def _head_results(x: np.ndarray, pattern: np.ndarray, w: dict, prefix: str) -> np.ndarray:
    """What each head adds to the residual, ``[batch, pos, heads, d_model]`` (no ``b_O``)."""
    v = np.einsum("bpd,hde->bhpe", x, w[prefix + "W_V"]) + w[prefix + "b_V"][:, None]
    z = pattern @ v  # [batch, heads, pos, d_head]
    return np.einsum("bhpe,hed->bphd", z, w[prefix + "W_O"])


def activations(
    model: CompiledModel, inputs: Any, dtype: Any = np.float32, per_head: bool = False
) -> dict[str, np.ndarray]:
    """The numpy activations under TransformerLens hook names, and ``logits``.

    ``inputs`` are token ids ``[batch, pos]`` or equal-length inputs. The
    residual stream, attention and MLP outputs are those of
    :meth:`CompiledModel.forward`; ``blocks.{i}.attn.hook_pattern`` is
    ``[batch, heads of layer i, query, key]``. With ``per_head``, also
    ``blocks.{i}.attn.hook_result``: each head's write ``[batch, pos, head, d_model]``.
    """
    ids = token_ids(model, inputs)
    w, supports = model.weights(dtype), model.supports(dtype)  # (found once per model)
    n = ids.shape[1]
    embed = w["embed.W_E"][ids]  # [batch, pos, d_model]
    pos = np.broadcast_to(w["pos_embed.W_pos"][:n], embed.shape)
    out = {"hook_embed": embed, "hook_pos_embed": pos}
    x = embed + w["pos_embed.W_pos"][:n]
    for i, block in enumerate(model.blocks):
        p = f"blocks.{i}."
        out[p + "hook_resid_pre"] = x
        attn_out = np.zeros_like(x)
        if block.attn.n_heads:
            pattern = _pattern(x, w, p + "attn.", model.causal)
            out[p + "attn.hook_pattern"] = pattern
            if per_head:
                out[p + "attn.hook_result"] = _head_results(x, pattern, w, p + "attn.")
            attn_out = _attention(x, w, p + "attn.", model.causal, supports[i]["attn"])
        mid = x + attn_out if block.attn.n_heads else x
        mlp_out = np.zeros_like(x)
        if block.mlp.d_mlp:
            mlp_out = _mlp(mid, w, p + "mlp.", supports[i]["mlp"])
        x = mid + mlp_out if block.mlp.d_mlp else mid
        out.update({p + "hook_attn_out": attn_out, p + "hook_resid_mid": mid})
        out.update({p + "hook_mlp_out": mlp_out, p + "hook_resid_post": x})
    out["logits"] = x @ w["unembed.W_U"] + w["unembed.b_U"]  # [batch, pos, d_out]
    return out


class Activations(Mapping):
    """Activations by hook name (a read-only mapping), readable by direction name."""

    def __init__(self, model: CompiledModel, ids: np.ndarray, arrays: dict[str, np.ndarray]):
        self.model, self.ids, self._arrays = model, ids, arrays

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._arrays:
            known = ", ".join(self._arrays)
            raise KeyError(f"no activation {name!r}; there are: {known}")
        return self._arrays[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._arrays)

    def __len__(self) -> int:
        return len(self._arrays)

    def positions(self, batch: int = 0) -> tuple[str, ...]:
        """Row names for input ``batch``: ``0:<bos>``, ``1:c``, ``2:a``, ..."""
        names = (BOS_TOKEN, *map(str, self.model.vocab))
        return tuple(f"{p}:{names[t]}" for p, t in enumerate(self.ids[batch]))

    def named(self, name: str, batch: int = 0, head: int | None = None) -> NamedMatrix:
        """One input's activation ``name`` with named rows and columns.

        Residual-shaped activations give positions x directions;
        ``attn.hook_pattern`` gives query x key positions of ``head``;
        ``attn.hook_result`` gives what ``head`` wrote, positions x directions.
        """
        a = self[name][batch]
        rows = self.positions(batch)
        if name.endswith("hook_pattern"):  # [heads, query, key]
            return NamedMatrix(_head(a, 0, head, name), rows, rows)
        if name.endswith("hook_result"):  # [pos, heads, d_model]
            a = _head(a, 1, head, name)
        if a.ndim != 2 or a.shape[-1] != self.model.d_model:
            raise RaspError(f"{name} is not residual-shaped {a.shape}; read it as an array")
        return NamedMatrix(a, rows, self.model.directions)


def _head(a: np.ndarray, axis: int, head: int | None, name: str) -> np.ndarray:
    count = a.shape[axis]
    if head is None or not 0 <= head < count:
        raise RaspError(f"{name}: give head= one of 0..{count - 1} (got {head})")
    return np.take(a, head, axis=axis)
