"""Compile time at long lengths, this checkout beside another one, in one run.

    python benchmarks/compile_time.py                                  # this checkout alone
    git worktree add /tmp/before <commit>
    python benchmarks/compile_time.py --baseline /tmp/before/src       # with a ratio column
    python benchmarks/compile_time.py --programs reverse hist --length 512 --repeat 3
    python benchmarks/compile_time.py --programs dyck1 --causal --length 256 512 1024

Each compile runs in its own child process (``PYTHONPATH`` set to that
checkout's ``src``), the default compile: the 64-input check and the
certificate included. The best of ``--repeat`` compiles is shown; the two
checkouts take turns, so that both meet the same background load. The
parameters, the float32 margin and the weights' hash are shown beside the
times: a change for speed should leave them as they were. Run it with
``OMP_NUM_THREADS=1`` on a shared machine: numpy's threaded BLAS competing
with other jobs makes small matrix products slower, not faster.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from checkouts import check_arguments

CHILD = """
import json, sys, time
from rasplab.compiler import compile_program
from rasplab.library import PROGRAMS
name, n, causal = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "causal"
entry = PROGRAMS[name]
start = time.perf_counter()
model = compile_program(entry.build(), list(entry.vocab), n, causal=causal, sample=entry.sample)
seconds = time.perf_counter() - start
proof = model.info.certificate
print(json.dumps({
    "seconds": seconds, "certificate": proof.status, "params": model.n_params,
    "margin": proof.worst_margin_float32, "weights": (proof.weights_sha256 or "")[:12],
}))
"""

HERE = Path(__file__).resolve().parents[1] / "src"


def measure(src: Path, name: str, n: int, causal: bool, timeout: float) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src)}
    mode = "causal" if causal else "full"
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, name, str(n), mode],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"did not finish in {timeout:g} s"}
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1][:80]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def best(runs: list[dict]) -> dict:
    """The fastest run (or the first error)."""
    timed = [r for r in runs if "seconds" in r]
    return min(timed, key=lambda r: r["seconds"]) if timed else runs[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", nargs="+", default=["reverse", "shift", "hist", "index"])
    parser.add_argument("--length", type=int, nargs="+", default=[1024])
    parser.add_argument("--causal", action="store_true", help="compile decoders")
    parser.add_argument("--repeat", type=int, default=2, help="compiles per program; the best")
    parser.add_argument("--baseline", type=Path, help="another checkout's src folder")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    check_arguments(parser, args, length=min(args.length), repeat=args.repeat)
    print("| program | length | baseline s | this checkout s | ratio | params | margin | weights |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for name in args.programs:
        for n in args.length:
            now: list[dict] = []
            base: list[dict] = []
            for _ in range(args.repeat):  # in turns: both meet the same load
                now.append(measure(HERE, name, n, args.causal, args.timeout))
                if args.baseline:
                    base.append(measure(args.baseline, name, n, args.causal, args.timeout))
            print(_row(name, n, best(base) if base else {}, best(now)), flush=True)
    return 0


def _row(name: str, n: int, base: dict, now: dict) -> str:
    def cell(r: dict) -> str:
        return f"{r['seconds']:.2f}" if "seconds" in r else r.get("error", "-")

    ratio = "-"
    if "seconds" in base and "seconds" in now:
        ratio = f"{base['seconds'] / now['seconds']:.1f}x"
    same = [now.get(k) == base.get(k) for k in ("params", "margin", "weights")] if base else []
    marks = " (baseline differs)" if base and not all(same) else ""
    margin = f"{now['margin']:.4f}" if isinstance(now.get("margin"), float) else "-"
    params = f"{now['params']:,}" if "params" in now else "-"
    return (
        f"| {name} | {n:,} | {cell(base)} | {cell(now)} | {ratio} | {params} "
        f"| {margin} | {now.get('weights', '-')}{marks} |"
    )


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("compile_time.py: interrupted", file=sys.stderr)
        sys.exit(130)
