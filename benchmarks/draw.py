"""Time drawing the execution view (evaluate with a trace, analyse, write the SVG).

Usage: python benchmarks/draw.py [--repeat N]

The issue's reference point: raspy draws ``add`` on "683+345" in 3.2 s as
a 275 KB SVG. Targets: under 0.1 s, and no larger than 275 KB.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from rasplab import viz
from rasplab.library import PROGRAMS

TARGET_S = 0.1
TARGET_KB = 275.0


def _program(name: str):
    if name in PROGRAMS:
        return PROGRAMS[name].build()
    from rasplab.library.arith import add  # before ``add`` is in the catalogue

    return add()


def cases() -> list[tuple[str, str, list]]:
    rng = random.Random(0)
    sort32 = [rng.choice("abcdefgh") for _ in range(32)]
    dyck32 = PROGRAMS["dyck2"].sample(random.Random(1), 32)
    return [
        ("add", "683+345", list("683+345")),
        ("sort", "length 32", sort32),
        ("dyck2", "length 32", dyck32),  # no target: 5 heads of 1024 cells
    ]


def measure(name: str, xs: list, repeat: int) -> tuple[float, float, float]:
    """Median and best seconds per drawing (program built once), and the SVG size in KB."""
    program = _program(name)
    svg = viz.draw(program, xs, kind="execution")  # warm up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        viz.draw(program, xs, kind="execution")
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), len(svg.encode()) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    header = f"{'program':<8} {'input':<10} {'median s':>9} {'best s':>8} {'SVG KB':>7}  target"
    print(header)
    print("-" * len(header))
    for name, shown, xs in cases():
        median, best, kb = measure(name, xs, args.repeat)
        ok = "ok" if median < TARGET_S and kb <= TARGET_KB else "over"
        if name == "dyck2":  # no size target
            ok = "time ok" if median < TARGET_S else "time over"
        print(f"{name:<8} {shown:<10} {median:>9.4f} {best:>8.4f} {kb:>7.1f}  {ok}")
    print(f"\ntargets: < {TARGET_S} s and <= {TARGET_KB:.0f} KB (raspy: 3.2 s, 275 KB for add)")


if __name__ == "__main__":
    main()
