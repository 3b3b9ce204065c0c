"""The batched evaluator: bucket inputs by length, run each bucket through the DAG.

>>> from rasplab import tokens, indices, length, select, aggregate
>>> rev = aggregate(select(indices, length - indices - 1, "=="), tokens)
>>> evaluate_batch(rev, ["abc", [1, 2], "x"])
[['c', 'b', 'a'], [2, 1], ['x']]
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import EmptyInputError, EvaluationError, InputError, RaspTypeError
from ..lang.graph import topological_order
from ..lang.nodes import (
    Aggregate,
    Constant,
    Indices,
    Length,
    Map,
    Node,
    Select,
    SelectorAnd,
    SelectorNot,
    SelectorOr,
    SelectorWidth,
    SOp,
    Tokens,
    ZipMap,
    is_atom,
)
from . import attention, kernels
from .blocks import BlockSelector, aggregate_blocks, block_size, width_blocks
from .columns import Column, holds_nan
from .memory import DEFAULT_MAX_BYTES, check_fits, chunk_bytes, selector_output_bytes
from .trace import Trace

__all__ = ["evaluate", "evaluate_batch", "coerce_input", "DEFAULT_MAX_BYTES"]

# Selectors are [batch, n, n] booleans; an aggregate also makes a float64 copy.
# This many elements per selector (or per block of queries of one long
# input's selector) bounds a chunk's memory to tens of MB.
CHUNK_ELEMENTS = 1 << 21


def _family(token: Any) -> str:
    if isinstance(token, bool):
        return "bool"
    if isinstance(token, int | float):
        return "number"
    return "str"


# Sets of exact token types that need no per-token check: one family, no subclasses.
_PLAIN_KINDS = frozenset(
    frozenset(kinds) for kinds in ({str}, {bool}, {int}, {float}, {int, float})
)


_SEQUENCE_TYPES = frozenset({str, list, tuple})


def coerce_input(xs: Any) -> list[Any]:
    """One input as a list of atom tokens: a string is one token per character."""
    if isinstance(xs, str):
        tokens = list(xs)
    elif isinstance(xs, np.ndarray):
        tokens = xs.tolist()
    elif isinstance(xs, Sequence):
        tokens = list(xs)
    else:
        raise InputError(
            f"an input is a string (one token per character) or a list of tokens, "
            f"got {type(xs).__name__}: {xs!r}"
        )
    if not tokens:
        raise EmptyInputError("empty input: a RASP program needs at least one token")
    kinds = frozenset(map(type, tokens))
    if kinds in _PLAIN_KINDS:  # the common case, settled at C speed
        if float in kinds:
            _refuse_nan(tokens)
        return tokens
    first = None
    for pos, token in enumerate(tokens):
        if token != token:  # NaN, the one value not equal to itself
            _refuse_nan(tokens)
        if not is_atom(token):
            raise InputError(
                f"token {token!r} at position {pos} of input {tokens!r} is a "
                f"{type(token).__name__}; tokens must be int, float, str or bool"
            )
        family = _family(token)
        if first is None:
            first = (family, pos, token)
        elif family != first[0]:
            raise InputError(
                f"input {tokens!r} mixes types: position {first[1]} is {first[2]!r} "
                f"({first[0]}) but position {pos} is {token!r} ({family})"
            )
    return tokens


def _refuse_nan(tokens: list[Any]) -> None:
    """NaN is not a token: it has no place in an order, so sort, max and min cannot place it."""
    for pos, token in enumerate(tokens):
        if token != token:
            shown = repr(tokens) if len(tokens) <= 40 else repr(tokens[:40])[:-1] + ", ...]"
            raise InputError(
                f"token {token!r} at position {pos} of input {shown} is NaN, which is not a "
                "valid token (it equals nothing, itself included); infinities are allowed"
            )


def _coerce_all(
    inputs: list[Any],
) -> tuple[list[list[Any]], frozenset[type] | None, list[Any] | None]:
    """``coerce_input`` of every input; if all are plain, their tokens' exact types.

    The common case (strings, lists and tuples of plain tokens of one family)
    is checked in a few passes at C speed over the whole batch; anything
    else goes input by input, so errors are exactly those of ``coerce_input``.
    The third result is all the tokens in one list, when the batch is small
    enough for that copy to be cheap (else None).
    """
    if set(map(type, inputs)) <= _SEQUENCE_TYPES:
        # Lists are used as they are (nothing here writes to them; traces copy theirs).
        rows = [xs if type(xs) is list else list(xs) for xs in inputs]
        if rows and all(rows):  # no empty input
            if sum(map(len, rows)) <= _FLAT_TOKENS:
                flat = list(itertools.chain.from_iterable(rows))
                kinds = _exact_types(flat)
            else:
                flat, kinds = None, _exact_types(itertools.chain.from_iterable(rows))
            if kinds in _PLAIN_KINDS:
                if float in kinds:
                    for row in rows:
                        if any(t != t for t in row):
                            _refuse_nan(row)
                return rows, kinds, flat
    return [coerce_input(xs) for xs in inputs], None, None


_FLAT_TOKENS = 1 << 20  # most tokens worth one flat list (8 MB of references)


def _exact_types(tokens: Iterable[Any]) -> frozenset[type]:
    """The exact types of the tokens (not empty), in blocks so that memory stays bounded."""
    tokens = iter(tokens)
    found: set[type] = set()
    while block := list(map(type, itertools.islice(tokens, 1 << 16))):
        first = block[0]
        found.add(first)
        if block.count(first) != len(block):  # rare: several types
            found.update(block)
    return frozenset(found)


def _run_node(node: Node, values: dict[int, Any], rows: list[list[Any]], bucket) -> Any:
    batch, n = len(rows), bucket.n
    get = values.__getitem__
    if isinstance(node, Tokens):
        return Column.from_rows(rows, bucket.token_types, bucket.flat_tokens)
    if isinstance(node, Indices):
        return Column(np.broadcast_to(np.arange(n, dtype=np.int64), (batch, n)), tuple(range(n)))
    if isinstance(node, Length):
        return Column.constant(n, batch, n)
    if isinstance(node, Constant):
        if holds_nan(node.value):
            raise EvaluationError(f"the constant {node.value!r} is NaN, which is not a value")
        return Column.constant(node.value, batch, n)
    if isinstance(node, Map):
        return kernels.map_column(node, get(node.inner.id), bucket)
    if isinstance(node, ZipMap):
        return kernels.zipmap_column(node, [get(x.id) for x in node.inputs], bucket)
    if isinstance(node, Select):
        rows_of = kernels.select_rows(node, get(node.keys.id), get(node.queries.id), bucket)
        if bucket.block_queries is None:
            return rows_of(0, n)
        return BlockSelector(rows_of, (batch, n, n))
    if isinstance(node, SelectorAnd):
        return get(node.fst.id) & get(node.snd.id)
    if isinstance(node, SelectorOr):
        return get(node.fst.id) | get(node.snd.id)
    if isinstance(node, SelectorNot):
        return ~get(node.inner.id)
    if isinstance(node, Aggregate | SelectorWidth):
        return _attend(node, get, bucket)
    raise RaspTypeError(f"cannot evaluate {node!r}: unknown node type {type(node).__name__}")


def _attend(node: Aggregate | SelectorWidth, get, bucket: _Bucket) -> Column:
    """An aggregate or a selector width: on the whole selector, or block by block."""
    sel = get(node.selector.id)
    block_queries = bucket.block_queries  # set whenever selects made a BlockSelector
    if isinstance(node, SelectorWidth):
        if isinstance(sel, BlockSelector) and block_queries is not None:
            return width_blocks(sel, block_queries)
        return attention.width(sel)
    if isinstance(sel, BlockSelector) and block_queries is not None:
        return aggregate_blocks(node, sel, get(node.sop.id), bucket, block_queries)
    return attention.aggregate_column(node, sel, get(node.sop.id), bucket)


@dataclass(frozen=True)
class _Bucket(kernels.Bucket):
    """A chunk's inputs, and how many queries one block of attention holds (None: all)."""

    block_queries: int | None = None


def _run_bucket(
    order: list[Node],
    rows: list[list[Any]],
    max_bytes: int,
    keep: bool,
    token_types: frozenset[type] | None = None,
    flat_tokens: list[Any] | None = None,
) -> dict[int, Any]:
    """Every node's value on one chunk of equal-length inputs, memory checked first.

    A single input too long for whole ``n x n`` selectors gets attention in
    blocks of queries. Unless ``keep`` (a trace), each value is dropped once
    its last user has run.
    """
    batch, n = len(rows), len(rows[0])
    blocked = batch * n * n > CHUNK_ELEMENTS
    block = block_size(batch, n, CHUNK_ELEMENTS) if blocked else None
    n_sops = sum(isinstance(node, SOp) for node in order)
    needed = chunk_bytes(batch, n, n_sops, len(order) - n_sops, CHUNK_ELEMENTS if blocked else None)
    check_fits(needed, max_bytes, f"evaluating {order[-1].label} on an input of {n} tokens")
    bucket = _Bucket(rows, n, token_types, flat_tokens, max_bytes, block_queries=block)
    last_use = {} if keep else _last_uses(order)
    values: dict[int, Any] = {}
    for step, node in enumerate(order):
        values[node.id] = _run_node(node, values, rows, bucket)
        for child in last_use.get(step, ()):
            del values[child]
    return values


def _last_uses(order: list[Node]) -> dict[int, list[int]]:
    """For each step, the nodes whose last user it is (the program's own value stays)."""
    last: dict[int, int] = {}
    for step, node in enumerate(order):
        for child in node.children:
            last[child.id] = step
    drops: dict[int, list[int]] = defaultdict(list)
    for node_id, step in last.items():
        if node_id != order[-1].id:
            drops[step].append(node_id)
    return drops


def _chunks(inputs: list[list[Any]]) -> Iterable[tuple[list[int], list[list[Any]]]]:
    """Group input indices by length, then cut each group to bounded memory."""
    lengths = list(map(len, inputs))
    if lengths and lengths.count(lengths[0]) == len(lengths):  # one length: slices will do
        n = lengths[0]
        step = max(1, CHUNK_ELEMENTS // (n * n))
        for start in range(0, len(inputs), step):
            stop = min(start + step, len(inputs))
            yield list(range(start, stop)), inputs[start:stop]
        return
    by_length: dict[int, list[int]] = defaultdict(list)
    for i, n in enumerate(lengths):
        by_length[n].append(i)
    for n, members in sorted(by_length.items()):
        step = max(1, CHUNK_ELEMENTS // (n * n))
        for start in range(0, len(members), step):
            part = members[start : start + step]
            yield part, [inputs[i] for i in part]


def _decode(node: Node, value: Any) -> list[Any]:
    if isinstance(node, SOp):
        return value.rows()
    if isinstance(value, BlockSelector):
        value = value.whole()
    return value.tolist()


def evaluate_batch(
    program: Node, inputs: Iterable[Any], *, trace: bool = False, max_bytes: int = DEFAULT_MAX_BYTES
) -> list[Any]:
    """Evaluate many inputs together; one result (or ``Trace``) per input, in order.

    Memory is estimated before anything is allocated and bounded by
    ``max_bytes`` (default 4 GiB): long inputs get attention a block of
    queries at a time, and what still would not fit (a selector handed back
    as a whole ``n x n`` matrix, say) raises ``ResourceLimitError``, which
    names the limit. NaN is not a valid token (``InputError``, naming its
    position), nor a value a map or an aggregate may make (``EvaluationError``);
    infinities are ordinary numbers.
    """
    if not isinstance(program, Node):
        raise RaspTypeError(f"evaluate needs an s-op or a selector, got {program!r}")
    rows, token_types, flat = _coerce_all(list(inputs))
    if not isinstance(program, SOp) and not trace:
        what = f"returning the selector {program.label} as a matrix of booleans"
        check_fits(selector_output_bytes(list(map(len, rows))), max_bytes, what)
    order = topological_order(program)
    results: list[Any] = [None] * len(rows)
    for members, part in _chunks(rows):
        whole = len(part) == len(rows)  # one chunk, in input order: reuse the flat tokens
        values = _run_bucket(order, part, max_bytes, trace, token_types, flat if whole else None)
        if trace:
            for b, i in enumerate(members):
                results[i] = Trace(program, order, values, b, part[b], max_bytes=max_bytes)
        else:
            for i, decoded in zip(members, _decode(program, values[program.id]), strict=True):
                results[i] = decoded
    return results


def evaluate(
    program: Node, xs: Any, *, trace: bool = False, max_bytes: int = DEFAULT_MAX_BYTES
) -> Any:
    """Evaluate one input: a list of per-position values (a matrix for a selector).

    With ``trace=True`` returns a ``Trace`` holding every intermediate result.
    ``max_bytes`` bounds the memory used (default 4 GiB; see ``evaluate_batch``):

    >>> from rasplab import tokens, select, selector_width
    >>> evaluate(selector_width(select(tokens, tokens, "==")), "hello")
    [1, 1, 2, 2, 1]
    >>> from rasplab.errors import RaspError
    >>> try:
    ...     evaluate(select(tokens, tokens, "=="), "a" * 5000, max_bytes=10**8)
    ... except RaspError as err:
    ...     print(type(err).__name__, str(err).split("; ")[-1])
    ResourceLimitError raise it with max_bytes= (command line: --max-memory)
    >>> try:
    ...     evaluate(tokens, [float("nan"), 1.0])
    ... except RaspError as err:
    ...     print(type(err).__name__, str(err).split(",")[0])
    InputError token nan at position 0 of input [nan
    """
    return evaluate_batch(program, [xs], trace=trace, max_bytes=max_bytes)[0]
