"""Attention on long inputs, a block of queries at a time.

A selector on an input of length ``n`` is ``n * n`` booleans: 10 GB at
100,000 tokens. Row ``q`` of a selector depends only on query ``q`` and on
all the keys, so a selector can be computed for queries ``q0..q1`` alone;
an aggregate or a selector width then needs only that block to make its
outputs for those queries. ``BlockSelector`` is such a selector, computed
on demand; ``aggregate_blocks`` and ``width_blocks`` walk it block by block,
so memory stays bounded by the block size whatever the input length.

>>> import numpy as np
>>> sel = BlockSelector(lambda q0, q1: np.arange(q0, q1)[None, :, None] >= np.arange(4), (1, 4, 4))
>>> width_blocks(sel, block_queries=3).rows()
[[1, 2, 3, 4]]
>>> (~sel).rows(0, 2).astype(int).tolist()
[[[0, 1, 1, 1], [0, 0, 1, 1]]]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from ..lang.nodes import Aggregate
from . import attention
from .columns import Column
from .kernels import Bucket

__all__ = ["BlockSelector", "aggregate_blocks", "width_blocks", "block_size"]


@dataclass(frozen=True)
class BlockSelector:
    """A selector ``[batch, query, key]`` whose rows are computed when asked for."""

    rows: Callable[[int, int], np.ndarray]  # (q0, q1) -> bool [batch, q1 - q0, key]
    shape: tuple[int, int, int]

    def __and__(self, other: BlockSelector) -> BlockSelector:
        return BlockSelector(lambda q0, q1: self.rows(q0, q1) & other.rows(q0, q1), self.shape)

    def __or__(self, other: BlockSelector) -> BlockSelector:
        return BlockSelector(lambda q0, q1: self.rows(q0, q1) | other.rows(q0, q1), self.shape)

    def __invert__(self) -> BlockSelector:
        return BlockSelector(lambda q0, q1: ~self.rows(q0, q1), self.shape)

    def whole(self) -> np.ndarray:
        """Every row at once (the caller has checked that it fits)."""
        return self.rows(0, self.shape[1])


def block_size(batch: int, n: int, elements: int) -> int:
    """Queries per block so that a block holds about ``elements`` booleans (at least one)."""
    return max(1, elements // max(1, batch * n))


def _blocks(n: int, step: int) -> Iterator[tuple[int, int]]:
    for q0 in range(0, n, step):
        yield q0, min(q0 + step, n)


def width_blocks(sel: BlockSelector, block_queries: int) -> Column:
    """``selector_width`` block by block: the counts are small, the blocks are not kept."""
    n = sel.shape[1]
    counts = [attention.count(sel.rows(q0, q1)) for q0, q1 in _blocks(n, block_queries)]
    return Column.build(np.concatenate(counts, axis=1), list(range(sel.shape[2] + 1)))


def aggregate_blocks(
    node: Aggregate, sel: BlockSelector, vals: Column, bucket: Bucket, block_queries: int
) -> Column:
    """``aggregate`` block by block; the blocks' outputs are joined into one column."""
    parts = [
        attention.aggregate_column(node, sel.rows(q0, q1), vals, bucket.shifted(q0))
        for q0, q1 in _blocks(sel.shape[1], block_queries)
    ]
    return join_positions(parts)


def join_positions(parts: list[Column]) -> Column:
    """Columns for consecutive runs of positions, as one column (tables merged)."""
    if len(parts) == 1:
        return parts[0]
    offsets = np.cumsum([0] + [len(p.table) for p in parts[:-1]])
    codes = np.concatenate([p.codes + o for p, o in zip(parts, offsets, strict=True)], axis=1)
    table = [value for p in parts for value in p.table]
    return Column.build(codes, table)
