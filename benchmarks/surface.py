"""Benchmark the RASP surface language: parse+load time, and evaluation speed.

Prints two tables:

* parse+load time of every ``examples/*.rasp`` file (the grammar is built
  once per process, reported separately as "parser build");
* evaluation of the ``.rasp`` histogram, sort and Dyck-2 programs on 1,000
  inputs at lengths 8, 32 and 128 (microseconds per input), beside the
  original RASP interpreter's milliseconds per input (the project's measured
  anchors) and the speed-up.

Run: ``python benchmarks/surface.py`` (``--inputs N`` to change the batch,
``--json`` for machine-readable output).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

from rasplab import progress
from rasplab.syntax import load
from rasplab.syntax.parser import _parser

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
LENGTHS = (8, 32, 128)
# The original interpreter, ms per input at lengths 8 / 32 / 128 (one input at a time).
REFERENCE_MS = {
    "hist": (0.9, 17.8, 355.0),
    "sort": (1.8, 32.6, 425.0),
    "dyck2": (3.8, 43.6, 601.0),
}
PROGRAMS = {  # name: (example file, alphabet)
    "hist": ("hist.rasp", "abcdefgh"),
    "sort": ("sort.rasp", "abcdefgh"),
    "dyck2": ("dyck2.rasp", "(){}"),
}


def best_of(fn, repeat: int) -> float:
    """Fastest of ``repeat`` timed calls, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def load_times(repeat: int) -> tuple[float, list[dict]]:
    start = time.perf_counter()
    _parser()
    build = time.perf_counter() - start
    rows = []
    for path in sorted(EXAMPLES.glob("*.rasp")):
        runs = [best_of(lambda p=path: load(p), 1) for _ in range(repeat)]
        rows.append({"file": path.name, "ms": 1000 * statistics.median(runs)})
    return build, rows


def random_inputs(alphabet: str, length: int, count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(alphabet) for _ in range(length)) for _ in range(count)]


def eval_times(count: int, repeat: int, quiet: bool = False) -> list[dict]:
    rows = []
    for name, (file, alphabet) in progress.bar(
        PROGRAMS.items(), desc="evaluate", unit="file", quiet=quiet
    ):
        prog = load(EXAMPLES / file)
        for i, length in enumerate(LENGTHS):
            inputs = random_inputs(alphabet, length, count, seed=length)
            seconds = best_of(lambda p=prog, xs=inputs: p.evaluate_batch(xs), repeat)
            us = 1e6 * seconds / count
            reference_ms = REFERENCE_MS[name][i]
            rows.append(
                {
                    "program": name,
                    "length": length,
                    "us_per_input": us,
                    "reference_ms_per_input": reference_ms,
                    "speedup": reference_ms * 1000 / us,
                }
            )
    return rows


def print_tables(build: float, loads: list[dict], evals: list[dict], count: int) -> None:
    print(f"parser build (once per process): {1000 * build:.1f} ms")
    print()
    print(f"{'example':<22}{'parse+load ms':>14}")
    for row in loads:
        print(f"{row['file']:<22}{row['ms']:>14.2f}")
    print()
    print(f"evaluation, {count} inputs per batch (rasplab us/input vs reference ms/input)")
    print(f"{'program':<9}{'length':>7}{'rasplab us':>12}{'reference ms':>14}{'speed-up':>11}")
    for row in evals:
        print(
            f"{row['program']:<9}{row['length']:>7}{row['us_per_input']:>12.1f}"
            f"{row['reference_ms_per_input']:>14.1f}{row['speedup']:>10.0f}x"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=1000, help="inputs per batch")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs (best is kept)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    args = parser.parse_args(argv)
    build, loads = load_times(max(args.repeat, 5))
    evals = eval_times(args.inputs, args.repeat, quiet=args.json)
    if args.json:
        print(json.dumps({"parser_build_ms": 1000 * build, "load": loads, "eval": evals}))
    else:
        print_tables(build, loads, evals, args.inputs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
