"""Bounds kept across the builds of one compile, by a digest of what they read.

After its first certificate, a compile at 1,024 positions may build the program
six or more times (:mod:`.float32_rebuilds`), and bound each rebuild in float32.
A rebuild changes a few sublayers; the others have the same weights and see the
same errors in what they read, so their bounds come out the same. dyck2's MLP
that adds two counts reads a million combinations and took about a second in
every pass. Such work is kept under a digest of every array it reads, so it is
found again only where it would be computed the same.

Work under ``KEEP_FROM_CELLS`` is redone: its digest would cost about what it
saves. At most ``KEPT_BYTES`` of results are kept per store (one compile's
value sets hold it, and it goes with them).

>>> store: dict = {}
>>> calls = []
>>> def work():
...     calls.append(1)
...     return np.ones(3)
>>> x = np.zeros((KEEP_FROM_CELLS, 1))
>>> a = kept(store, "work", (x, 2.0), x.size, work)
>>> b = kept(store, "work", (x.copy(), 2.0), x.size, work)  # same content: found again
>>> c = kept(store, "work", (x, 3.0), x.size, work)  # another input: computed
>>> len(calls), a is b, bool(a.flags.writeable)
(2, True, False)
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["kept", "digest", "KEEP_FROM_CELLS", "KEPT_BYTES"]

KEEP_FROM_CELLS = 200_000  # cells of work (combinations times units) worth a digest
KEPT_BYTES = 256 * 2**20  # results kept per store at most
_USED = ("bounds kept", "bytes")  # the store's key for how many bytes it keeps


def digest(*parts: Any) -> bytes:
    """A digest of ``parts``: arrays by dtype, shape and content; anything else by repr."""
    h = hashlib.blake2b(digest_size=20)
    for part in parts:
        if isinstance(part, np.ndarray):
            a = np.ascontiguousarray(part)
            h.update(f"array {a.dtype.str} {a.shape}".encode())
            h.update(a.data)
        else:
            h.update(f"{type(part).__name__} {part!r}".encode())
        h.update(b"|")
    return h.digest()


def kept(
    store: dict | None,
    what: str,
    parts: tuple,
    cells: int,
    compute: Callable[[], np.ndarray],
) -> np.ndarray:
    """``compute()``, or what it gave before in ``store`` for the same ``what`` and
    ``parts`` (everything it reads). The result is read-only: it may be shared."""
    if store is None or cells < KEEP_FROM_CELLS:
        return compute()
    key = ("bounds kept", what, digest(*parts))
    found = store.get(key)
    if found is None:
        found = compute()
        found.flags.writeable = False
        used = store.get(_USED, 0)
        if used + found.nbytes <= KEPT_BYTES:
            store[key] = found
            store[_USED] = used + found.nbytes
    return found
