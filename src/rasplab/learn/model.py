"""The relaxed program model: a transformer whose every choice is a categorical one.

Every variable of the residual stream is held as a distribution over its
codes, padded to a common width ``G``: ``[batch, n, G, n_vars]`` (variables last, so
choosing one is a matrix-vector product, with no copy). Every
choice (which variable a head reads, which comparison it makes, what a
table entry is) has logits; training samples them by Gumbel-softmax at a
temperature that anneals, soft at first and straight-through one-hot later.
:meth:`ProgramModel.extract` takes every argmax and returns the discrete
program, which :func:`rasplab.learn.discrete.forward` runs exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .config import LearnConfig, require_torch
from .discrete import PREDICATES, Factor, Head, Layer, Mlp, Program, Variable, fractions

torch = require_torch()
nn = torch.nn
F = torch.nn.functional
# torch is an optional extra, loaded at run time: its classes are Any to the type checker
_Module: Any = nn.Module

__all__ = ["ProgramModel", "Sampling"]

INPUTS = 3  # tokens, indices, length: the variables every program starts with


@dataclass(frozen=True)
class Sampling:
    tau: float  # Gumbel-softmax temperature
    hard: bool  # straight-through one-hot choices
    discrete: bool = False  # argmax everywhere, no noise (the discrete program)
    noise: bool = True  # Gumbel noise on choices; without it, a plain tempered softmax


def _choose(logits: Any, mode: Sampling) -> Any:
    """One-hot (or relaxed) weights over the last axis of ``logits``."""
    if mode.discrete:
        return F.one_hot(logits.argmax(-1), logits.shape[-1]).to(logits.dtype)
    if mode.noise:
        return F.gumbel_softmax(logits, tau=mode.tau, hard=mode.hard, dim=-1)
    soft = F.softmax(logits / mode.tau, dim=-1)
    if not mode.hard:
        return soft
    return F.one_hot(logits.argmax(-1), logits.shape[-1]).to(logits.dtype) + soft - soft.detach()


def _interpolate(x: Any, grid: Any, width: int) -> Any:
    """A number as weights on the two nearest points of a sorted ``grid``: ``[..., width]``."""
    upper = torch.bucketize(x.detach(), grid).clamp(1, len(grid) - 1)  # [...]
    low, high = grid[upper - 1], grid[upper]
    share = ((x - low) / (high - low)).clamp(0.0, 1.0)
    out = F.one_hot(upper - 1, width) * (1 - share)[..., None]
    return out + F.one_hot(upper, width) * share[..., None]


class _Factor(_Module):
    def __init__(self, n_vars: int) -> None:
        super().__init__()
        self.key = nn.Parameter(torch.randn(n_vars) * 0.1)
        self.query = nn.Parameter(torch.randn(n_vars) * 0.1)
        self.predicate = nn.Parameter(torch.randn(len(PREDICATES)) * 0.1)


class _Mlp(_Module):
    def __init__(self, n_vars: int, width: int, n_out: int, scale: float = 1.0) -> None:
        super().__init__()
        self.inputs = nn.Parameter(torch.randn(2, n_vars) * 0.1)
        self.table = nn.Parameter(torch.randn(width, width, n_out) * scale)  # [G, G, n_out]


class _Head(_Module):
    def __init__(
        self, kind: str, n_vars: int, width: int, factors: int, tables: tuple[bool, bool], scale
    ) -> None:
        query, key = tables
        super().__init__()
        self.kind = kind
        self.factors = nn.ModuleList(_Factor(n_vars) for _ in range(factors))
        self.value = nn.Parameter(torch.randn(n_vars) * 0.1)
        self.ones = nn.Parameter(torch.randn(width) * 0.1)  # mean: which codes count as 1
        # A table computing the first comparison's query from two variables (its own
        # lookup table, read out as one just before the head): select(k, f(a, b), ==).
        self.query = _Mlp(n_vars, width, width, scale) if query else None
        self.key = _Mlp(n_vars, width, width, scale) if key else None  # the same on the key side


class ProgramModel(_Module):
    """The relaxed model for a vocabulary, a longest length and a label set."""

    def __init__(self, config: LearnConfig, vocab: tuple, labels: tuple, max_len: int) -> None:
        super().__init__()
        self.config, self.vocab, self.labels, self.max_len = config, vocab, labels, max_len
        self.penalty: Any = 0.0  # the last forward pass's impurity of categorical heads
        self.variables = self._plan()
        self.width = max(v.size for v in self.variables)  # G
        n = len(self.variables)
        self.heads = nn.ModuleList()
        self.mlps = nn.ModuleList()
        for kinds in config.layer_kinds():
            for kind in kinds:
                query = (kind == "cat" and config.query_tables) or kind in config.key_tables
                key = kind in config.key_tables
                tables = (query, key)
                self.heads.append(
                    _Head(kind, n, self.width, config.factors, tables, config.table_init)
                )
            for _ in range(config.mlps):
                self.mlps.append(_Mlp(n, self.width, self._mlp_values(), config.table_init))
        self.output = _Mlp(n, self.width, len(labels), config.table_init)
        self._buffers_for_codes()

    def _mlp_values(self) -> int:
        return self.config.mlp_values or self.max_len + 1

    def _plan(self) -> list[Variable]:
        """Every variable, in order: inputs, then per layer its heads, then its MLPs."""
        c, n = self.config, self.max_len
        found = [Variable("tokens", "token", self.vocab), Variable("indices", "int", range_(n))]
        found.append(Variable("length", "int", range_(n + 1)))
        for layer, kinds in enumerate(c.layer_kinds(), start=1):
            for kind, i in _numbered(kinds):
                found.append(_head_variable(f"l{layer}_{kind}{i}", kind, self.vocab, n))
            for i in range(c.mlps):
                found.append(Variable(f"l{layer}_mlp{i}", "int", range_(self._mlp_values())))
        return found

    def _buffers_for_codes(self) -> None:
        g = self.width
        codes = torch.arange(g)
        keys, queries = codes[None, :], codes[:, None]  # table[q, k] = predicate(k, q)
        tables = [
            keys == queries,
            keys != queries,
            keys < queries,
            keys <= queries,
            keys > queries,
            keys >= queries,
            torch.ones(g, g, dtype=torch.bool),
        ]
        self.register_buffer("predicates", torch.stack(tables).float())  # [P, G, G]
        grid = torch.tensor([float(f) for f in fractions(self.max_len)])
        self.register_buffer("fraction_grid", grid)
        self.register_buffer("count_grid", torch.arange(self.max_len + 1).float())
        sizes = torch.tensor([v.size for v in self.variables])
        self.register_buffer("var_sizes", sizes)
        kinds = [v.kind for v in self.variables]
        self.register_buffer("selectable", torch.tensor([k != "frac" for k in kinds]))
        self.register_buffer("movable", torch.tensor([k == "token" for k in kinds]))

    def _available(self, made: int, allowed: Any | None = None) -> Any:
        """Logit mask: only the first ``made`` variables exist yet (and only ``allowed`` ones)."""
        mask = torch.arange(len(self.variables), device=self.var_sizes.device) < made
        if allowed is not None:
            mask = mask & allowed
        return torch.where(mask, 0.0, float("-inf"))

    def _pick(self, stream: Any, logits: Any, mask: Any, mode: Sampling) -> Any:
        weights = _choose(logits + mask, mode)  # [n_vars]
        return stream @ weights  # [batch, n, G]

    def _select(self, head: _Head, stream, made: int, keep: Any, mode: Sampling) -> Any:
        sel = keep  # [batch, n_query, n_key]
        mask = self._available(made, self.selectable)
        for index, factor in enumerate(head.factors):
            if index == 0 and head.query is not None:
                query = self._table(head.query, stream, made, mode, True)  # [batch, n, G]
            else:
                query = self._pick(stream, factor.query, mask, mode)
            if index == 0 and head.key is not None:
                key = self._table(head.key, stream, made, mode, True)  # [batch, n, G]
            else:
                key = self._pick(stream, factor.key, mask, mode)
            # a cat head's comparison is always one (straight-through): a mixture grades keys
            # in a way no single comparison can, and its discrete head moves all it selects
            chosen = _choose(factor.predicate, replace(mode, hard=mode.hard or head.kind == "cat"))
            table = torch.einsum("p,pqk->qk", chosen, self.predicates)
            sel = sel * torch.einsum("bqg,gh,bkh->bqk", query, table, key)
        return sel

    def _head(self, head: _Head, stream, made: int, keep: Any, mode: Sampling) -> Any:
        sel = self._select(head, stream, made, keep, mode)  # [batch, n_query, n_key]
        count = sel.sum(-1)  # [batch, n_query]
        if head.kind == "width":
            return _interpolate(count, self.count_grid, self.width)
        if head.kind == "cat":
            return self._move(head, sel, keep, stream, made, mode)
        value = self._pick(stream, head.value, self._available(made), mode)
        ones = self._ones(head, mode)
        x = torch.einsum("bkg,g->bk", value, ones)  # [batch, n_key] in [0, 1]
        mean = torch.einsum("bqk,bk->bq", sel, x) / count.clamp(min=1e-3)
        return _interpolate(mean.clamp(0.0, 1.0), self.fraction_grid, self.width)

    def _move(self, head: _Head, sel, keep, stream, made: int, mode: Sampling) -> Any:
        """The mean of the selected keys' values (as the discrete head, where they agree),
        with a small default slot that takes over when nothing is selected."""
        value = self._pick(stream, head.value, self._available(made, self.movable), mode)
        spare = 1e-2
        total = sel.sum(-1, keepdim=True) + spare  # [batch, n_query, 1]
        weights = torch.cat([torch.full_like(total, spare), sel], dim=-1) / total
        first = F.one_hot(torch.zeros_like(value[..., 0]).long(), self.width).float()
        moved = torch.einsum("bqk,bkg->bqg", weights[..., 1:], value)
        moved = moved + weights[..., :1] * first[:, :1]  # [batch, n_query, G]
        # The discrete head is undefined where it selects differing values: the relaxed one
        # pays for mixing them (Gini impurity of what it moves, on real positions).
        impurity = (1.0 - (moved**2).sum(-1)) * keep[:, :, 0]  # [batch, n_query]
        self.penalty = self.penalty + impurity.sum() / keep[:, :, 0].sum().clamp(min=1.0)
        return moved

    def _ones(self, head: _Head, mode: Sampling) -> Any:
        if mode.discrete:
            return (head.ones > 0).float()
        soft = torch.sigmoid(head.ones / mode.tau)
        if mode.hard:
            return (head.ones > 0).float() + soft - soft.detach()
        return soft

    def _table(self, mlp: _Mlp, stream, made: int, mode: Sampling, probs: bool) -> Any:
        """An MLP's output ``[batch, n, n_out]``: value weights, or logits for the output."""
        mask = self._available(made)
        a = self._pick(stream, mlp.inputs[0], mask, mode)
        b = self._pick(stream, mlp.inputs[1], mask, mode)
        table = _entries(mlp.table, mode) if probs else mlp.table
        return torch.einsum("bng,bnh,ghk->bnk", a, b, table)

    def forward(self, tokens: Any, lengths: Any, mode: Sampling) -> Any:
        """Output logits ``[batch, n, labels]`` for token codes ``[batch, n]``."""
        batch, n = tokens.shape
        self.penalty = torch.zeros(())  # summed over the categorical heads by _move
        real = torch.arange(n, device=tokens.device)[None, :] < lengths[:, None]  # [batch, n]
        keep = (real[:, :, None] & real[:, None, :]).float()  # [batch, n_query, n_key]
        stream = torch.zeros(batch, n, self.width, len(self.variables), device=tokens.device)
        stream[..., 0] = F.one_hot(tokens, self.width).float()
        stream[..., 1] = F.one_hot(torch.arange(n, device=tokens.device), self.width).float()
        stream[..., 2] = F.one_hot(lengths, self.width).float()[:, None, :]
        made, heads, mlps = INPUTS, iter(self.heads), iter(self.mlps)
        for kinds in self.config.layer_kinds():
            per_layer = len(kinds)
            outs = [self._head(next(heads), stream, made, keep, mode) for _ in range(per_layer)]
            stream = _write(stream, made, outs)
            made += per_layer
            outs = [
                _pad(self._table(next(mlps), stream, made, mode, True), self.width)
                for _ in range(self.config.mlps)
            ]
            stream = _write(stream, made, outs)
            made += self.config.mlps
        return self._table(self.output, stream, made, mode, False)

    def extract(self) -> Program:
        """The discrete program: every choice at its argmax."""
        return extract(self)


def _entries(logits: Any, mode: Sampling) -> Any:
    """Table entries: one-hot at the argmax (straight-through when hard), else a softmax."""
    soft = F.softmax(logits / mode.tau, -1)
    if not (mode.hard or mode.discrete):
        return soft
    one_hot = F.one_hot(logits.argmax(-1), logits.shape[-1]).to(logits.dtype)
    return one_hot if mode.discrete else one_hot + soft - soft.detach()


def range_(n: int) -> tuple[int, ...]:
    return tuple(range(n))


def _head_variable(name: str, kind: str, vocab: tuple, max_len: int) -> Variable:
    if kind == "cat":
        return Variable(name, "token", vocab)
    if kind == "width":
        return Variable(name, "int", range_(max_len + 1))
    return Variable(name, "frac", tuple(float(f) for f in fractions(max_len)))


def _numbered(kinds: tuple[str, ...]) -> list[tuple[str, int]]:
    """Each head's kind and its number among the layer's heads of that kind."""
    return [(kind, kinds[:i].count(kind)) for i, kind in enumerate(kinds)]


def _pad(x: Any, width: int) -> Any:
    return F.pad(x, (0, width - x.shape[-1]))


def _write(stream: Any, start: int, outs: list[Any]) -> Any:
    """The stream with ``outs`` (each ``[batch, n, G]``) as variables ``start, start+1, ...``."""
    if not outs:
        return stream
    new = torch.stack(outs, dim=3)  # [batch, n, G, k]
    return torch.cat([stream[..., :start], new, stream[..., start + len(outs) :]], dim=3)


def _argmax_var(model: ProgramModel, logits: Any, mask: Any) -> str:
    return model.variables[int((logits + mask).argmax())].name


def _extract_head(model: ProgramModel, head: _Head, name: str, made: int, tables: list) -> Head:
    """The discrete head; a computed query's table is appended to ``tables``."""
    sel_mask = model._available(made, model.selectable)
    factors = [
        Factor(
            _argmax_var(model, f.key, sel_mask),
            _argmax_var(model, f.query, sel_mask),
            PREDICATES[int(f.predicate.argmax())],
        )
        for f in head.factors
    ]
    if head.query is not None:
        tables.append(_extract_mlp(model, head.query, f"{name}_query", made))
        factors[0] = Factor(factors[0].key, tables[-1].name, factors[0].predicate)
    if head.key is not None:
        tables.append(_extract_mlp(model, head.key, f"{name}_key", made))
        factors[0] = Factor(tables[-1].name, factors[0].query, factors[0].predicate)
    return _discrete_head(model, head, name, made, tuple(factors))


def _discrete_head(model, head: _Head, name: str, made: int, factors: tuple) -> Head:
    if head.kind == "width":
        return Head(name, factors, "width")
    if head.kind == "cat":
        value = _argmax_var(model, head.value, model._available(made, model.movable))
        return Head(name, factors, "cat", value)
    value = _argmax_var(model, head.value, model._available(made))
    size = next(v.size for v in model.variables if v.name == value)
    ones = tuple(int(i) for i in np.flatnonzero(head.ones.detach().cpu().numpy()[:size] > 0))
    return Head(name, factors, "mean", value, ones)


def _extract_mlp(model: ProgramModel, mlp: _Mlp, name: str, made: int) -> Mlp:
    mask = model._available(made)
    a, b = (_argmax_var(model, mlp.inputs[i], mask) for i in range(2))
    sizes = {v.name: v.size for v in model.variables}
    table = mlp.table.detach()[: sizes[a], : sizes[b]].argmax(-1)  # [size_a, size_b]
    return Mlp(name, (a, b), tuple(int(x) for x in table.flatten()), mlp.table.shape[-1])


def extract(model: ProgramModel) -> Program:
    c = model.config
    names = iter(v.name for v in model.variables[INPUTS:])
    heads, mlps = iter(model.heads), iter(model.mlps)
    layers, made = [], INPUTS
    with torch.no_grad():
        for kinds in c.layer_kinds():
            per_layer = len(kinds)
            queries: list[Mlp] = []  # computed queries: a layer of tables before the heads
            hs = tuple(
                _extract_head(model, next(heads), next(names), made, queries)
                for _ in range(per_layer)
            )
            if queries:
                layers.append(Layer((), tuple(queries)))
            made += per_layer
            ms = tuple(_extract_mlp(model, next(mlps), next(names), made) for _ in range(c.mlps))
            made += c.mlps
            layers.append(Layer(hs, ms))
        output = _extract_mlp(model, model.output, "output", made)
    return Program(model.vocab, model.max_len, tuple(layers), output, model.labels)
