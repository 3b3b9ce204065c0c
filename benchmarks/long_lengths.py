"""Compile position-indexed programs at long lengths: size, d_model, time, exactness.

    python benchmarks/long_lengths.py                          # the table in docs/benchmarks.md
    python benchmarks/long_lengths.py --programs reverse --lengths 64 256 --timeout 120

Each (program, length) compiles in a child process with a time limit, so that
one slow compile does not stall the table; a compile that runs past it, or
that the compiler refuses, is reported as such. Exactness is the fraction of
200 random inputs of the maximum length (the program's sampler, float32)
whose decoded output equals the evaluator's.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import time

from rasplab.compiler import compile_program, verify
from rasplab.errors import CompileError, ResourceLimitError
from rasplab.library import PROGRAMS

PROGRAMS_SHOWN = ("reverse", "shift", "index", "ralign", "sort")
PROGRAMS_AS_THEY_ARE = ("hist", "most_freq", "dyck1", "dyck2")
LENGTHS = (64, 256, 512, 1024)


def measure(name: str, n: int, samples: int) -> dict:
    entry = PROGRAMS[name]
    try:
        entry.sample(random.Random(0), n)
    except ValueError:
        return {"skip": "the sampler cannot make inputs this long"}
    start = time.perf_counter()
    try:
        model = compile_program(entry.build(), list(entry.vocab), n, verify=0, sample=entry.sample)
    except (CompileError, ResourceLimitError) as err:
        lines = str(err).splitlines()
        return {"skip": "refused: " + (lines[1] if len(lines) > 1 else lines[0]).strip("- ")[:90]}
    seconds = time.perf_counter() - start
    check = verify(model, entry.build(), samples, sample=entry.sample, seed=7)
    return {
        "params": model.n_params,
        "d_model": model.d_model,
        "compile": seconds,
        "exact": check.fraction,
    }


def _child(queue, name: str, n: int, samples: int) -> None:
    queue.put(measure(name, n, samples))


def measure_with_limit(name: str, n: int, samples: int, timeout: float) -> dict:
    queue: mp.Queue = mp.Queue()
    child = mp.Process(target=_child, args=(queue, name, n, samples))
    child.start()
    child.join(timeout)
    if child.is_alive():
        child.kill()
        child.join()
        return {"skip": f"did not finish in {timeout:.0f} s"}
    return queue.get() if not queue.empty() else {"skip": "the compile crashed"}


def row(name: str, n: int, r: dict) -> str:
    if "skip" in r:
        return f"| {name} | {n} | - | - | - | {r['skip']} |"
    return (
        f"| {name} | {n} | {r['params']:,} | {r['d_model']} | "
        f"{r['compile']:.1f} | {r['exact']:.1%} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", nargs="+", default=PROGRAMS_SHOWN + PROGRAMS_AS_THEY_ARE)
    parser.add_argument("--lengths", nargs="+", type=int, default=LENGTHS)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    print("| program | max len | params | d_model | compile s | exact (float32) |")
    print("|---|---|---|---|---|---|")
    for name in args.programs:
        for n in args.lengths:
            print(row(name, n, measure_with_limit(name, n, args.samples, args.timeout)), flush=True)


if __name__ == "__main__":
    main()
