"""Library programs at long lengths: size, d_model, time, certificate, exactness, and tracr.

    python benchmarks/long_lengths.py                          # the table in docs/benchmarks.md
    python benchmarks/long_lengths.py --programs reverse --lengths 64 256 --timeout 120
    python benchmarks/long_lengths.py --tracr                  # tracr beside it (extra `bench`)
    python benchmarks/long_lengths.py --programs all --lengths 64 1024 --timeout 120
    python benchmarks/long_lengths.py --programs dyck1 --causal   # a decoder: causal masks

Each (program, length) compiles in a child process with a time limit, so that
one slow compile does not stall the table; a compile that runs past it, or
that the compiler refuses, is reported as such. The compile is the default
one: 64 sampled inputs checked, then stage 7's certificate (enumeration for a
small domain, bound propagation otherwise; its status, method and worst
float32 margin are shown). "exact" is the fraction of ``--samples`` (1,000)
random inputs of the maximum length (the program's sampler, float32) whose
decoded output equals the evaluator's. "x64" is the parameter count over the
same program's at length 64. With ``--tracr``, tracr compiles the same program
(translated node by node) in its own child process with the same time limit.
With ``--causal`` the programs compile with causal masks (a program that may
read a later position is refused); a causal compile checks that every selector
looks back only, so the evaluator's output on the whole input is every
prefix's, and the check runs it once per input.
"""

from __future__ import annotations

import argparse
import functools
import multiprocessing as mp
import random
import time
from collections.abc import Callable

from rasplab.compiler import compile_program, verify
from rasplab.compiler.bounds import BOUNDS_SECONDS
from rasplab.errors import CompileError, ResourceLimitError
from rasplab.library import PROGRAMS

PROGRAMS_SHOWN = ("reverse", "sort", "hist", "most_freq", "dyck1", "dyck2", "shift", "index")
LENGTHS = (64, 256, 512, 1024)


def measure(
    name: str, n: int, samples: int, causal: bool = False, bounds_seconds: float = BOUNDS_SECONDS
) -> dict:
    entry = PROGRAMS[name]
    try:
        entry.sample(random.Random(0), n)
    except ValueError:
        return {"skip": "the sampler cannot make inputs this long"}
    start = time.perf_counter()
    try:
        model = compile_program(
            entry.build(),
            list(entry.vocab),
            n,
            sample=entry.sample,
            causal=causal,
            bounds_seconds=bounds_seconds,
        )
    except (CompileError, ResourceLimitError) as err:
        # the blocker (the line under "cannot compile exactly"), not the why/hint lines
        lines = [x for x in str(err).splitlines() if not x.strip().startswith(("why:", "hint:"))]
        return {"skip": "refused: " + (lines[1] if len(lines) > 1 else lines[0]).strip("- ")[:90]}
    seconds = time.perf_counter() - start
    check = verify(model, entry.build(), samples, sample=entry.sample, seed=7, looks_back=causal)
    proof = model.info.certificate
    return {
        "params": model.n_params,
        "d_model": model.d_model,
        "compile": seconds,
        "certificate": _certificate(proof),
        "exact": check.fraction,
    }


def _certificate(proof) -> str:
    """Status, method and float32 margin; when not proved, the last open item (the bounds'
    reason, after enumeration's "not enumerated")."""
    if proof is None:
        return "none"
    method = getattr(proof, "method", "enumeration")
    if proof.status != "proved" and getattr(proof, "dtype", None) == "float64":
        return f"float64 only (float32: {_cut(proof.open[-1].removeprefix('float32: '), 50)})"
    if proof.status != "proved":
        return f"{proof.status}: {_cut(proof.open[-1], 60)}" if proof.open else proof.status
    margin = proof.worst_margin_float32
    return f"proved ({method}, margin {margin:.2g})" if margin is not None else "proved"


def _cut(text: str, width: int) -> str:
    """``text`` cut at a word before ``width`` characters, marked where it was cut."""
    if len(text) <= width:
        return text
    return text[:width].rsplit(" ", 1)[0].rstrip(",;:(") + " ..."


def measure_tracr(name: str, n: int, samples: int) -> dict:
    import tracr_side

    entry = PROGRAMS[name]
    return tracr_side.measure(entry.build(), list(entry.vocab), n, samples, entry.sample)


def _child(queue, job: Callable, name: str, n: int, samples: int) -> None:
    queue.put(job(name, n, samples))


def with_limit(job: Callable, name: str, n: int, samples: int, timeout: float) -> dict:
    queue: mp.Queue = mp.Queue()
    child = mp.Process(target=_child, args=(queue, job, name, n, samples))
    child.start()
    child.join(timeout)
    if child.is_alive():
        child.kill()
        child.join()
        return {"skip": f"did not finish in {timeout:.0f} s"}
    return queue.get() if not queue.empty() else {"skip": "the compile crashed"}


def row(name: str, n: int, r: dict, base: int | None, tracr: dict | None) -> str:
    tail = "" if tracr is None else " " + _tracr_cells(tracr)
    if "skip" in r:
        return f"| {name} | {n} | - | - | - | - | - | {r['skip']} |{tail}"
    ratio = f"{r['params'] / base:.1f}" if base else "-"
    return (
        f"| {name} | {n} | {r['params']:,} | {ratio} | {r['d_model']} | {r['compile']:.1f} | "
        f"{r['exact']:.1%} | {r['certificate']} |{tail}"
    )


def _tracr_cells(t: dict) -> str:
    if "skip" in t:
        return f"{t['skip'][:60]} | - | - |"
    return f"{t['params']:,} | {t['compile']:.1f} | {t['exact']:.0%} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--programs", nargs="+", default=PROGRAMS_SHOWN, help="names, or `all`: every one"
    )
    parser.add_argument("--lengths", nargs="+", type=int, default=LENGTHS)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--tracr", action="store_true", help="tracr beside it (extra `bench`)")
    parser.add_argument("--tracr-timeout", type=float, default=120.0)
    parser.add_argument("--causal", action="store_true", help="compile with causal masks")
    parser.add_argument(
        "--bounds-seconds",
        type=float,
        default=BOUNDS_SECONDS,
        help="time the certificate's bounds may take",
    )
    args = parser.parse_args()
    if not 0 <= args.bounds_seconds < float("inf"):
        parser.error(f"--bounds-seconds must be 0 or more and finite, got {args.bounds_seconds}")
    head = "| program | max len | params | x64 | d_model | compile s | exact (f32) | certificate |"
    rule = "|---|---|---|---|---|---|---|---|"
    if args.tracr:
        head, rule = head + " tracr params | tracr compile s | tracr exact |", rule + "---|---|---|"
    print(head + "\n" + rule)
    names = sorted(PROGRAMS) if args.programs == ["all"] else args.programs
    unknown = [n for n in names if n not in PROGRAMS]
    if unknown:
        parser.error(f"no library program {unknown[0]!r}; known: {', '.join(sorted(PROGRAMS))}")
    for name in names:
        base, tracr_failed = None, None
        for n in args.lengths:
            job = functools.partial(measure, causal=args.causal, bounds_seconds=args.bounds_seconds)
            r = with_limit(job, name, n, args.samples, args.timeout)
            if n == 64 and "params" in r:
                base = r["params"]
            t = None
            if args.tracr and tracr_failed is not None:  # longer only takes longer
                t = {"skip": f"not run: tracr did not finish at {tracr_failed}"}
            elif args.tracr:
                t = with_limit(measure_tracr, name, n, 32, args.tracr_timeout)
                tracr_failed = n if "skip" in t and "finish" in t["skip"] else None
            print(row(name, n, r, base, t), flush=True)


if __name__ == "__main__":
    main()
