"""The forward-pass timing shared by the compile benchmark and its tracr side."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def best_ms(call: Callable[[], Any]) -> float:
    """Best of 7 rounds of the mean time of 5 calls, in ms, after 3 warm-up calls.

    The best round, as ``timeit`` advises: slower rounds measure other work
    on the machine, not the code.
    """
    for _ in range(3):
        call()
    rounds = []
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(5):
            call()
        rounds.append((time.perf_counter() - start) / 5 * 1000)
    return min(rounds)
