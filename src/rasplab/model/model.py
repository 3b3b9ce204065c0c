"""A compiled transformer: named residual directions, TransformerLens-shaped weights.

The residual stream has one direction per name in ``directions`` (``bos``,
``one``, ``tokens:a``, ``indices:3``, ``sort:2``, ...). Position 0 holds a
BOS token; input token ``t`` at RASP index ``i`` sits at position ``i + 1``.
Each block is multi-head attention then a ReLU MLP, both added to the
residual stream; weights use TransformerLens names and shapes
(``W_Q [n_heads, d_model, d_head]``, ``W_O [n_heads, d_head, d_model]``,
``W_in [d_model, d_mlp]``, ...). Scores are not divided by ``sqrt(d_head)``
(``attn_scale`` is 1). Blocks may differ in heads, ``d_head`` and ``d_mlp``.

The numpy forward pass here is the reference; ``rasplab.model.torch`` gives
the same numbers in PyTorch.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from ..errors import InputError
from ..lang.graph import value_key
from .info import ModelInfo
from .inputs import as_batch, one_input, show

__all__ = [
    "Attention",
    "MLP",
    "Block",
    "Output",
    "CompiledModel",
    "NamedMatrix",
    "BOS_TOKEN",
]

BOS_TOKEN = "<bos>"


@dataclass(frozen=True, repr=False)
class Attention:
    W_Q: np.ndarray  # [n_heads, d_model, d_head]
    W_K: np.ndarray  # [n_heads, d_model, d_head]
    W_V: np.ndarray  # [n_heads, d_model, d_head]
    W_O: np.ndarray  # [n_heads, d_head, d_model]
    b_Q: np.ndarray  # [n_heads, d_head]
    b_K: np.ndarray  # [n_heads, d_head]
    b_V: np.ndarray  # [n_heads, d_head]
    b_O: np.ndarray  # [d_model]
    names: tuple[str, ...] = ()  # per head: the s-op it computes

    @property
    def n_heads(self) -> int:
        return self.W_Q.shape[0]

    def __repr__(self) -> str:
        h, d, e = self.W_Q.shape
        return f"Attention(n_heads={h}, d_model={d}, d_head={e}, names={self.names!r})"


@dataclass(frozen=True, repr=False)
class MLP:
    W_in: np.ndarray  # [d_model, d_mlp]
    b_in: np.ndarray  # [d_mlp]
    W_out: np.ndarray  # [d_mlp, d_model]
    b_out: np.ndarray  # [d_model]

    @property
    def d_mlp(self) -> int:
        return self.W_in.shape[1]

    def __repr__(self) -> str:
        return f"MLP(d_model={self.W_in.shape[0]}, d_mlp={self.d_mlp})"


@dataclass(frozen=True, repr=False)
class Block:
    attn: Attention
    mlp: MLP

    def __repr__(self) -> str:
        return f"Block(attn={self.attn!r}, mlp={self.mlp!r})"


@dataclass(frozen=True)
class Output:
    """How logits become values: argmax over ``values`` or the nearest of ``values``."""

    kind: str  # "categorical" | "numerical"
    values: tuple[Any, ...]  # categorical: one per logit; numerical: sorted by coordinate
    coords: tuple[float, ...] = ()  # numerical: the scalar each value is stored as


@dataclass(frozen=True)
class NamedMatrix:
    """A matrix with named rows and columns; ``loc`` slices them by glob patterns."""

    matrix: np.ndarray
    rows: tuple[str, ...]
    cols: tuple[str, ...]

    def loc(self, rows: str = "*", cols: str = "*") -> NamedMatrix:
        r = [i for i, n in enumerate(self.rows) if fnmatch.fnmatchcase(n, rows)]
        c = [j for j, n in enumerate(self.cols) if fnmatch.fnmatchcase(n, cols)]
        sub = self.matrix[np.ix_(r, c)]
        return NamedMatrix(sub, tuple(self.rows[i] for i in r), tuple(self.cols[j] for j in c))

    def nonzero(self, tol: float = 1e-9) -> dict[tuple[str, str], float]:
        """``(row, col) -> value`` for every entry larger than ``tol``."""
        return {
            (self.rows[i], self.cols[j]): float(self.matrix[i, j])
            for i, j in zip(*np.nonzero(np.abs(self.matrix) > tol), strict=True)
        }


@dataclass(frozen=True, repr=False)
class CompiledModel:
    """A compiled transformer and how to run it.

    One input is a string (one token per character) or a list of tokens;
    ``model(xs)`` runs one input. A batch is a list of inputs, for the
    batch methods ``run`` and ``run_with_cache``; a bare string given to
    them is refused rather than read as a batch of one-character inputs.
    ``forward`` takes token ids ``[batch, pos]`` from ``encode``.

    >>> from rasplab.compiler import compile_program
    >>> from rasplab.library import reverse
    >>> model = compile_program(reverse(), "abc", 8, verify=0)
    >>> model("cab"), model(["c", "a", "b"])
    (['b', 'a', 'c'], ['b', 'a', 'c'])
    >>> model.run(["cab", ["a", "b"]])
    [['b', 'a', 'c'], ['b', 'a']]
    >>> outputs, cache = model.run_with_cache(["cab"])
    >>> outputs, cache["logits"].shape
    ([['b', 'a', 'c']], (1, 4, 3))
    >>> model.encode("cab")
    array([0, 3, 1, 2])
    >>> model.run("cab")
    Traceback (most recent call last):
    ...
    rasplab.errors.InputError: run() takes a batch (a list of inputs), got the string 'cab'; \
for one input write model('cab') or run(['cab'])

    Inputs longer than ``max_seq_len``, tokens outside the vocabulary and
    (unless ``check_domain=False``) inputs outside a declared input domain
    (``info.domain``) raise InputError.
    """

    directions: tuple[str, ...]
    vocab: tuple[Any, ...]  # input tokens; token id = index + 1 (id 0 is BOS)
    max_seq_len: int
    causal: bool
    W_E: np.ndarray  # [d_vocab, d_model]
    W_pos: np.ndarray  # [n_ctx, d_model]
    blocks: tuple[Block, ...]
    W_U: np.ndarray  # [d_model, d_out]
    b_U: np.ndarray  # [d_out]
    output: Output
    info: ModelInfo = field(default_factory=ModelInfo)  # how it was made and checked

    # ------------------------------------------------------------ shape

    @property
    def d_model(self) -> int:
        return len(self.directions)

    @property
    def n_layers(self) -> int:
        return len(self.blocks)

    @property
    def heads_per_layer(self) -> tuple[int, ...]:
        return tuple(b.attn.n_heads for b in self.blocks)

    @property
    def d_mlp_per_layer(self) -> tuple[int, ...]:
        return tuple(b.mlp.d_mlp for b in self.blocks)

    @property
    def d_vocab(self) -> int:
        """Token ids, BOS included."""
        return self.W_E.shape[0]

    @property
    def n_ctx(self) -> int:
        """Positions, BOS included: ``max_seq_len + 1``."""
        return self.W_pos.shape[0]

    @property
    def d_out(self) -> int:
        """Logits per position."""
        return self.W_U.shape[1]

    def __repr__(self) -> str:
        return (
            f"CompiledModel(program={self.info.program!r}, n_layers={self.n_layers}, "
            f"heads_per_layer={self.heads_per_layer}, d_model={self.d_model}, "
            f"d_vocab={self.d_vocab}, n_ctx={self.n_ctx}, d_out={self.d_out}, "
            f"n_params={self.n_params}, domain={self.info.domain.kind!r})"
        )

    def arrays(self) -> dict[str, np.ndarray]:
        """Every weight under its TransformerLens name (``blocks.0.attn.W_Q``, ...)."""
        out = {"embed.W_E": self.W_E, "pos_embed.W_pos": self.W_pos}
        for i, b in enumerate(self.blocks):
            for name in ("W_Q", "W_K", "W_V", "W_O", "b_Q", "b_K", "b_V", "b_O"):
                out[f"blocks.{i}.attn.{name}"] = getattr(b.attn, name)
            for name in ("W_in", "b_in", "W_out", "b_out"):
                out[f"blocks.{i}.mlp.{name}"] = getattr(b.mlp, name)
        out["unembed.W_U"] = self.W_U
        out["unembed.b_U"] = self.b_U
        return out

    @property
    def n_params(self) -> int:
        return sum(a.size for a in self.arrays().values())

    @property
    def n_nonzero(self) -> int:
        return sum(int(np.count_nonzero(a)) for a in self.arrays().values())

    # ------------------------------------------------------------ names

    def index(self, pattern: str) -> list[int]:
        """Residual indices whose direction name matches a glob (``"sort:*"``)."""
        return [i for i, n in enumerate(self.directions) if fnmatch.fnmatchcase(n, pattern)]

    def ov(self, layer: int, head: int) -> NamedMatrix:
        """What head ``layer.head`` writes (columns) when it attends to a direction (rows)."""
        a = self.blocks[layer].attn
        return NamedMatrix(a.W_V[head] @ a.W_O[head], self.directions, self.directions)

    def qk(self, layer: int, head: int) -> NamedMatrix:
        """Score contribution of query direction (rows) against key direction (columns)."""
        a = self.blocks[layer].attn
        return NamedMatrix(a.W_Q[head] @ a.W_K[head].T, self.directions, self.directions)

    def mlp_in(self, layer: int) -> NamedMatrix:
        w = self.blocks[layer].mlp.W_in
        return NamedMatrix(w, self.directions, tuple(f"unit{j}" for j in range(w.shape[1])))

    def mlp_out(self, layer: int) -> NamedMatrix:
        w = self.blocks[layer].mlp.W_out
        return NamedMatrix(w, tuple(f"unit{j}" for j in range(w.shape[0])), self.directions)

    # ------------------------------------------------------------ running

    def encode(self, xs: Any, *, check_domain: bool = True) -> np.ndarray:
        """Token ids ``[1 + len(xs)]`` for one input (a string or a list of tokens), BOS first.

        InputError if the input is empty, longer than ``max_seq_len``, has a
        token outside the vocabulary, or (unless ``check_domain=False``) is
        outside the model's declared input domain.
        """
        tokens = one_input(xs)
        if not tokens:
            raise InputError("empty input: a compiled model needs at least one token")
        if len(tokens) > self.max_seq_len:
            raise InputError(
                f"input {show(xs)} has length {len(tokens)}, longer than the model's "
                f"max_seq_len {self.max_seq_len}"
            )
        ids = [0]
        for pos, t in enumerate(tokens):
            i = self._token_ids.get(value_key(t))
            if i is None:
                raise InputError(
                    f"token {t!r} at position {pos} is not in the model's vocabulary "
                    f"{list(self.vocab)!r}"
                )
            ids.append(i)
        if check_domain:
            self._check_domain(xs, tokens)
        return np.asarray(ids, dtype=np.int64)

    def _check_domain(self, xs: Any, tokens: list[Any]) -> None:
        domain = self.info.domain
        if domain.contains(tokens) is False:  # None: the domain cannot tell, so it passes
            raise InputError(
                f"input {show(xs)} is outside the model's declared domain "
                f"({domain.description}; pattern {domain.pattern!r}), where it is not known "
                "to be exact; pass check_domain=False to run it anyway"
            )

    @cached_property
    def _token_ids(self) -> dict[tuple, int]:
        return {value_key(t): i + 1 for i, t in enumerate(self.vocab)}

    @cached_property
    def _casts(self) -> dict:
        return {}

    def weights(self, dtype: Any = np.float32) -> dict[str, np.ndarray]:
        """All arrays in ``dtype`` (cached)."""
        dtype = np.dtype(dtype)
        if dtype not in self._casts:
            self._casts[dtype] = {k: v.astype(dtype) for k, v in self.arrays().items()}
        return self._casts[dtype]

    def supports(self, dtype: Any = np.float32) -> list[dict]:
        """Per block, the residual columns its attention and MLP read and write
        (:func:`~rasplab.model.forward.support`, cached with the weights)."""
        from .forward import support

        key = ("supports", np.dtype(dtype))
        if key not in self._casts:
            w = self.weights(dtype)
            self._casts[key] = [support(w, f"blocks.{i}.") for i in range(self.n_layers)]
        return self._casts[key]

    def forward(
        self, ids: np.ndarray, dtype: Any = np.float32, cache: dict | None = None
    ) -> np.ndarray:
        """Logits ``[batch, pos, d_out]`` for token ids ``[batch, pos]`` (BOS at 0).

        With a ``cache`` dict, stores the residual stream before every block
        (``resid_pre.{i}``) and at the end (``resid_final``): ``[batch, pos, d_model]``.
        Without one, a large batch runs in chunks so that memory stays bounded.
        """
        from .forward import run_numpy

        return run_numpy(self, np.asarray(ids), np.dtype(dtype), cache)

    def decode(self, logits: np.ndarray) -> list[list[Any]]:
        """Values per position (BOS dropped) from logits ``[batch, pos, d_out]``."""
        body = logits[:, 1:, :]
        if self.output.kind == "categorical":
            table = _object_array(self.output.values)
            return table[body.argmax(axis=-1)].tolist()
        coords = np.asarray(self.output.coords)  # sorted
        x = body[..., 0]  # [batch, pos]
        hi = np.searchsorted(coords, x).clip(0, len(coords) - 1)
        lo = (hi - 1).clip(0)
        pick = np.where(np.abs(x - coords[lo]) <= np.abs(x - coords[hi]), lo, hi)
        return _object_array(self.output.values)[pick].tolist()

    def run(
        self, inputs: Sequence[Any], dtype: Any = np.float32, *, check_domain: bool = True
    ) -> list[list[Any]]:
        """Decoded outputs for a batch: a list of inputs, run grouped by length."""
        batch = as_batch(inputs, "run")
        encoded = [self.encode(xs, check_domain=check_domain) for xs in batch]
        results: list[Any] = [None] * len(encoded)
        by_len: dict[int, list[int]] = {}
        for i, ids in enumerate(encoded):
            by_len.setdefault(len(ids), []).append(i)
        for members in by_len.values():
            ids = np.stack([encoded[i] for i in members])
            for i, out in zip(members, self.decode(self.forward(ids, dtype)), strict=True):
                results[i] = out
        return results

    def __call__(self, xs: Any, dtype: Any = np.float32, *, check_domain: bool = True) -> list:
        """The output of one input (a string or a list of tokens)."""
        return self.run([xs], dtype, check_domain=check_domain)[0]

    def run_with_cache(
        self, inputs: Sequence[Any], dtype: Any = np.float32, *, check_domain: bool = True
    ) -> tuple[list, Any]:
        """Decoded outputs of a batch of equal-length ``inputs`` (or token ids
        ``[batch, pos]``) and every activation.

        The second value is a :class:`rasplab.model.activations.Activations`:
        ``cache.named("blocks.1.hook_resid_post").loc("*", "sort:*")`` reads
        the residual by position and direction name.
        """
        from .activations import Activations, activations, token_ids

        ids = token_ids(self, inputs, check_domain=check_domain, method="run_with_cache")
        arrays = activations(self, ids, dtype, per_head=True)
        return self.decode(arrays["logits"]), Activations(self, ids, arrays)

    def summary(self) -> str:
        heads = list(self.heads_per_layer)
        return (
            f"{self.n_layers} layers, heads per layer {heads}, d_model {self.d_model}, "
            f"d_mlp {list(self.d_mlp_per_layer)}, {self.n_params:,} parameters "
            f"({self.n_nonzero:,} non-zero)"
        )


def _object_array(values: Sequence[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        out[i] = v
    return out
