"""Evaluation speed: the batched numpy evaluator against a per-position baseline.

For each library program and input length, prints the time per input of

* ``evaluate_batch`` on a whole batch of N random inputs (it buckets by
  length and cuts each bucket into memory-bounded chunks itself), and
* the naive evaluator (``rasplab.evaluate.naive``), which works one input
  and one position at a time in plain Python, as the reference RASP
  interpreter and raspy do; it is timed on fewer inputs, being slow,

with the ratio ``speed-up = baseline / batched``. Every timing is the best
of ``--repeat`` runs, the two sides taking turns. The baseline's outputs
are checked against the batched ones. A second table shows peak memory on
large batches, to show that it stays bounded: the working memory does not
grow with the batch, only the decoded results do.

    python benchmarks/evaluate.py                 # the full run (a few minutes)
    python benchmarks/evaluate.py --quick         # a smoke run (seconds)
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import resource
import shlex
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

import rasplab
from rasplab import evaluate_batch, progress
from rasplab.evaluate.naive import naive_evaluate
from rasplab.library import PROGRAMS

DEFAULT_PROGRAMS = ("hist", "sort", "reverse", "dyck2", "add")

# The peers' own evaluators, one input at a time: milliseconds per input at
# lengths 8 / 32 / 128, as measured for this project (2-core x86-64 CPU,
# Python 3.11). None: the peer has no such program.
PEERS_MS: dict[str, dict[str, tuple[float, float, float] | None]] = {
    "hist": {"RASP reference": (0.9, 17.8, 355.0), "raspy": (0.06, 0.28, 3.3)},
    "sort": {"RASP reference": (1.8, 32.6, 425.0), "raspy": (0.14, 0.94, 10.0)},
    "reverse": {"RASP reference": (1.8, 16.3, 248.0), "raspy": (0.10, 0.49, 4.8)},
    "dyck2": {"RASP reference": (3.8, 43.6, 601.0), "raspy": None},
    "add": {"RASP reference": None, "raspy": (0.6, 3.4, 24.7)},
}
PEER_LENGTHS = (8, 32, 128)


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    """Wall time of one run (after a garbage collection), and its result."""
    gc.collect()
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, result


def best_times(runs: list[Callable[[], Any]], repeat: int) -> list[tuple[float, Any]]:
    """The best time of each run over ``repeat`` rounds, the runs taking turns.

    Taking turns exposes both sides to the same background load, so the
    ratio of their best times is fair even on a busy machine.
    """
    best: list[tuple[float, Any]] = [(float("inf"), None)] * len(runs)
    for _ in range(repeat):
        for i, run in enumerate(runs):
            seconds, result = timed(run)
            if seconds < best[i][0]:
                best[i] = (seconds, result)
            del result
    return best


def sample_inputs(name: str, length: int, count: int, seed: int) -> list[list[Any]]:
    entry = PROGRAMS[name]
    rng = random.Random(f"{seed}:{name}:{length}")
    return [entry.sample(rng, length) for _ in range(count)]


def speed_table(
    args: argparse.Namespace, names: list[str], measured: dict[tuple[str, int], float]
) -> list[str]:
    """The speed table; fills ``measured[name, length]`` with batched µs per input."""
    lines = [
        "| program | length | batched µs/input | naive µs/input | speed-up | outputs agree |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name in progress.bar(names, desc="speed", unit="program"):
        program = PROGRAMS[name].build()
        for length in args.lengths:
            if length < PROGRAMS[name].min_len:
                continue
            inputs = sample_inputs(name, length, args.n, args.seed)
            few = inputs[: args.baseline_n]
            (batched, results), (naive, expected) = best_times(
                [
                    lambda p=program, xs=inputs: evaluate_batch(p, xs),
                    lambda p=program, xs=few: [naive_evaluate(p, x) for x in xs],
                ],
                args.repeat,
            )
            per_batched = batched / len(inputs) * 1e6
            per_naive = naive / len(few) * 1e6
            agree = "yes" if results[: len(few)] == expected else "**NO**"
            measured[name, length] = per_batched
            lines.append(
                f"| {name} | {length} | {per_batched:,.1f} | {per_naive:,.0f} | "
                f"{per_naive / per_batched:,.0f}x | {agree} |"
            )
            print(lines[-1], file=sys.stderr, flush=True)
    return lines


def peers_table(measured: dict[tuple[str, int], float]) -> list[str]:
    peers = ["RASP reference", "raspy"]
    lines = [
        "| program | length | rasplab batched µs | "
        + " | ".join(f"{p} µs | vs {p}" for p in peers)
        + " |",
        "|---|---:|---:|" + "---:|---:|" * len(peers),
    ]
    for (name, length), ours in measured.items():
        if name not in PEERS_MS or length not in PEER_LENGTHS:
            continue
        cells = []
        for peer in peers:
            figures = PEERS_MS[name][peer]
            if figures is None:
                cells += ["-", "-"]
                continue
            theirs = figures[PEER_LENGTHS.index(length)] * 1000
            cells += [f"{theirs:,.0f}", f"{theirs / ours:,.0f}x"]
        lines.append(f"| {name} | {length} | {ours:,.1f} | " + " | ".join(cells) + " |")
    return lines


def memory_table(args: argparse.Namespace, names: list[str]) -> list[str]:
    lines = [
        "| program | length | inputs | peak traced MB | results MB | working MB | wall s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in progress.bar(names, desc="memory", unit="program"):
        program = PROGRAMS[name].build()
        for count in args.memory_n:
            inputs = sample_inputs(name, args.memory_length, count, args.seed)
            gc.collect()
            tracemalloc.start()
            base = tracemalloc.get_traced_memory()[0]
            start = time.perf_counter()
            results = evaluate_batch(program, inputs)
            wall = time.perf_counter() - start
            after, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            held = (after - base) / 2**20  # what the call returns: the decoded results
            peak_mb = (peak - base) / 2**20
            lines.append(
                f"| {name} | {args.memory_length} | {count:,} | {peak_mb:,.1f} | "
                f"{held:,.1f} | {peak_mb - held:,.1f} | {wall:,.2f} |"
            )
            print(lines[-1], file=sys.stderr, flush=True)
            del results
    return lines


def machine() -> list[str]:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return [
        f"- machine: {platform.machine()}, {os.cpu_count()} CPUs ({platform.processor() or '?'}), "
        f"{platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}, numpy {np.__version__}, rasplab "
        f"{rasplab.__version__}",
        f"- load average at start (1, 5, 15 min): {load}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="inputs per batched run")
    parser.add_argument("--baseline-n", type=int, default=30, help="inputs per baseline run")
    parser.add_argument("--lengths", type=int, nargs="+", default=[8, 32, 128])
    parser.add_argument("--programs", nargs="+", default=list(DEFAULT_PROGRAMS))
    parser.add_argument("--repeat", type=int, default=7, help="runs per timing (best is kept)")
    parser.add_argument("--memory-length", type=int, default=128)
    parser.add_argument("--memory-n", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--memory-programs", nargs="+", default=["sort", "dyck2"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="a smoke run: small and fast")
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.baseline_n, args.repeat = 100, 3, 1
        args.lengths = [8, 32]
        args.memory_length, args.memory_n = 32, [200, 1000]
        args.memory_programs = args.memory_programs[:1]

    names = [name for name in args.programs if name in PROGRAMS]
    missing = [name for name in args.programs if name not in PROGRAMS]
    command = "python benchmarks/evaluate.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    out = ["## Evaluation speed", "", f"Command: `{command.strip()}`", "", *machine()]
    if missing:
        out.append(f"- skipped (not in the library): {', '.join(missing)}")
    out += [
        "",
        f"Batched: `evaluate_batch` on {args.n:,} random inputs per row. Naive: the "
        f"per-position evaluator on the first {args.baseline_n} of them. Best of "
        f"{args.repeat} runs each.",
        "",
    ]
    measured: dict[tuple[str, int], float] = {}
    out += speed_table(args, names, measured)
    out += [
        "",
        "## Against the peers",
        "",
        "The peers' figures are their own evaluators' milliseconds per input, one input "
        "at a time, as measured for this project on a 2-core x86-64 CPU with Python 3.11 "
        "(shown here in µs); the ratios divide them by this run's batched figures.",
        "",
    ]
    out += peers_table(measured)
    memory_names = [name for name in args.memory_programs if name in PROGRAMS]
    out += [
        "",
        "## Memory",
        "",
        "Peak memory traced during one `evaluate_batch` call, above what was allocated "
        "before it; the results are the decoded output lists the call returns.",
        "",
    ]
    out += memory_table(args, memory_names)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    out += ["", f"Peak resident memory of the whole benchmark process: {rss:,.0f} MB."]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
