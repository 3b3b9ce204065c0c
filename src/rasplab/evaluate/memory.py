"""How much memory an evaluation needs, estimated before anything is allocated.

The evaluator works on chunks of equal-length inputs. Within a chunk an
s-op is an int64 array ``[batch, n]``; a selector is a boolean array
``[batch, query, key]``, which for one long input is computed a block of
queries at a time (see ``engine.CHUNK_ELEMENTS``), so it never needs
``n * n`` bytes at once. What cannot be cut into blocks is refused up front
with a :class:`~rasplab.errors.ResourceLimitError`: a selector returned (or
traced) as a whole ``n x n`` matrix of Python booleans, or so many s-op
columns of one huge input that even they do not fit.

>>> format_bytes(3 * 2**30), format_bytes(1500)
('3.0 GiB', '1.5 kB')
>>> check_fits(10**6, 4 * 2**30, "evaluating p")  # fits: nothing happens
>>> try:
...     check_fits(10**10, 4 * 2**30, "evaluating p")
... except ResourceLimitError as err:
...     for part in str(err).split("; "):
...         print(part)
evaluating p needs about 9.3 GiB, over the memory limit of 4.0 GiB
raise it with max_bytes= (command line: --max-memory)
"""

from __future__ import annotations

from ..errors import ResourceLimitError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "format_bytes",
    "check_fits",
    "chunk_bytes",
    "selector_output_bytes",
    "RAISE_HINT",
]

DEFAULT_MAX_BYTES = 4 * 2**30  # 4 GiB: room for a long input on an ordinary laptop
RAISE_HINT = "raise it with max_bytes= (command line: --max-memory)"

# Bytes per element of the arrays alive while a chunk runs.
_COLUMN_BYTES = 8 * 3  # an s-op's int64 codes, plus temporaries of the kernel making it
_ATTENTION_BYTES = 8 * 3  # per selector element: the int64/float64 copies one attention makes
_PYTHON_BOOL = 8 + 1  # a decoded matrix: one list slot per cell (True/False are shared)


def format_bytes(size: float) -> str:
    """A byte count for people: ``512 B``, ``1.5 kB``, ``3.0 GiB``."""
    if size < 1000:
        return f"{int(size)} B"
    if size < 10**6:
        return f"{size / 1000:.1f} kB"
    if size < 2**30:
        return f"{size / 2**20:.1f} MiB"
    return f"{size / 2**30:.1f} GiB"


def check_fits(needed: int, max_bytes: int, what: str) -> None:
    """Raise ``ResourceLimitError`` when ``what`` needs more than ``max_bytes``."""
    if needed > max_bytes:
        raise ResourceLimitError(
            f"{what} needs about {format_bytes(needed)}, over the memory limit of "
            f"{format_bytes(max_bytes)}; {RAISE_HINT}"
        )


def chunk_bytes(
    batch: int, n: int, n_sops: int, n_selectors: int, block_elements: int | None
) -> int:
    """Peak bytes for one chunk of ``batch`` inputs of length ``n``.

    ``block_elements`` is the size of one block of queries when attention
    runs in blocks (then a single block of each selector is alive at a
    time), or None when every selector is a whole ``[batch, n, n]`` array.
    """
    columns = n_sops * batch * n * _COLUMN_BYTES
    elements = batch * n * n if block_elements is None else block_elements
    # Every selector's booleans may be alive at once; one attention's copies at a time.
    return columns + elements * (n_selectors + _ATTENTION_BYTES)


def selector_output_bytes(lengths: list[int]) -> int:
    """Bytes to hand back whole selectors (one ``n x n`` list of booleans per input)."""
    return sum(n * n for n in lengths) * _PYTHON_BOOL
