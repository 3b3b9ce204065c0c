"""Memory a compile needs, bounded before it is allocated (before stage 1, and before
stage 6 runs the model).

The compile's largest arrays grow with ``max_seq_len`` squared or cubed: grids
``[position, length]`` per selector in stage 1, the evaluator's traces of
selectors that depend on positions and the length (one ``[n, n]`` matrix per
length), and in stage 6 attention scores ``[n_ctx, n_ctx]`` per head. These
are counted from the program's shape alone, before anything is built, and a
compile that would pass ``max_bytes`` is refused with a
:class:`~rasplab.errors.ResourceLimitError` naming the limit and how to raise it.
The counts are lower bounds (Python objects and temporaries are left out), so a
refusal is never a false alarm.

>>> from rasplab import tokens, indices, length, select, aggregate
>>> reverse = aggregate(select(indices, length - indices - 1, "=="), tokens)
>>> parts = compile_bytes(reverse, 1000)
>>> sorted(parts)
['position-and-length traces', 'value-set grids']
>>> check_bytes(parts, None, "reverse", 1000) is None
True
>>> check_bytes(parts, 10**6, "reverse", 1000)
Traceback (most recent call last):
...
rasplab.errors.ResourceLimitError: compiling reverse at max_seq_len 1000 needs at least 334.6 MiB...
"""

from __future__ import annotations

from typing import Any

from ..errors import CompileError, ResourceLimitError
from ..lang.graph import topological_order
from ..lang.nodes import Length, Node, Selector
from .positional import length_free_nodes, positional_nodes

__all__ = ["DEFAULT_MAX_BYTES", "compile_bytes", "forward_bytes", "check_bytes", "check_limit"]

DEFAULT_MAX_BYTES = 4 * 2**30  # 4 GiB: what a laptop can spare


def check_limit(max_bytes: Any) -> int | None:
    """``max_bytes`` as given (None: no limit); CompileError naming it if it is not a
    positive int."""
    if max_bytes is None:
        return None
    if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes < 1:
        raise CompileError(f"max_bytes must be a positive int (or None), got {max_bytes!r}")
    return max_bytes


def compile_bytes(program: Node, max_seq_len: int) -> dict[str, int]:
    """Lower bounds, in bytes, of the largest arrays of stage 1, by what they hold."""
    n = max_seq_len
    nodes = topological_order(program)
    selectors = [s for s in nodes if isinstance(s, Selector)]
    positional, free = positional_nodes(program), length_free_nodes(program)
    per_length = [s for s in selectors if s.id in positional and s.id not in free]
    # a bool mask [position, length] always, and an int64 width grid per selector
    grids = n * n * (1 + 8 * len(selectors))
    if any(isinstance(x, Length) for x in nodes):
        grids += 8 * n * (n + 1)  # length's value set at position i holds n - i numbers
    parts = {"value-set grids": grids}
    if per_length:  # one bool matrix [L, L] per selector and length L, held together
        parts["position-and-length traces"] = len(per_length) * n * (n + 1) * (2 * n + 1) // 6
    return parts


def forward_bytes(n_ctx: int, d_model: int, max_heads: int, itemsize: int) -> dict[str, int]:
    """Lower bound, in bytes, of one input's forward pass (stage 6 runs the model)."""
    return {
        "attention scores": max_heads * n_ctx * n_ctx * itemsize,
        "residual stream": n_ctx * d_model * itemsize,
    }


def check_bytes(parts: dict[str, int], max_bytes: int | None, label: str, max_seq_len: int):
    """Raise ResourceLimitError when the parts add up to more than ``max_bytes``."""
    total = sum(parts.values())
    if max_bytes is None or total <= max_bytes:
        return None
    largest = max(parts, key=parts.__getitem__)
    raise ResourceLimitError(
        f"compiling {label} at max_seq_len {max_seq_len} needs at least {_size(total)} "
        f"(the largest part, {largest}: {_size(parts[largest])}), more than the memory "
        f"limit of {_size(max_bytes)}; raise it with max_bytes= (on the command line, "
        "--max-memory) or compile for a smaller max_seq_len"
    )


def _size(n_bytes: int) -> str:
    """
    >>> _size(350_000_000), _size(4 * 2**30), _size(512)
    ('333.8 MiB', '4.0 GiB', '512 bytes')
    """
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.1f} {unit}"
    return f"{n_bytes} bytes"
