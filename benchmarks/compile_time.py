"""Compile time at long lengths, this checkout beside another one, in one run.

    python benchmarks/compile_time.py                                  # this checkout alone
    git worktree add /tmp/before <commit>
    python benchmarks/compile_time.py --baseline /tmp/before/src       # with a ratio column
    python benchmarks/compile_time.py --programs reverse hist --length 512 --repeat 3

Each (checkout, program) compiles in its own child process (``PYTHONPATH`` set
to that checkout's ``src``), the default compile: the 64-input check and the
certificate included. The best of ``--repeat`` compiles is shown. Run it with
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

from rasplab.library import PROGRAMS

CHILD = """
import json, sys, time
from rasplab.compiler import compile_program
from rasplab.library import PROGRAMS
name, n, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
entry = PROGRAMS[name]
best = float("inf")
for _ in range(repeat):
    start = time.perf_counter()
    model = compile_program(entry.build(), list(entry.vocab), n, sample=entry.sample)
    best = min(best, time.perf_counter() - start)
print(json.dumps({"seconds": best, "certificate": model.info.certificate.status}))
"""

HERE = Path(__file__).resolve().parents[1] / "src"


def measure(src: Path, name: str, n: int, repeat: int, timeout: float) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src)}
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, name, str(n), str(repeat)],
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", nargs="+", default=["reverse", "shift", "hist", "index"])
    parser.add_argument("--length", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=2, help="compiles per program; the best")
    parser.add_argument("--baseline", type=Path, help="another checkout's src folder")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    if args.baseline is not None and not (args.baseline / "rasplab").is_dir():
        parser.error(f"--baseline {args.baseline}: no rasplab package in that folder")
    unknown = [p for p in args.programs if p not in PROGRAMS]
    if unknown:
        parser.error(f"not a library program: {unknown[0]!r}; see `rasplab list`")
    if args.length < 1 or args.repeat < 1:
        parser.error("--length and --repeat must be at least 1")
    print("| program | baseline s | this checkout s | ratio | certificate |")
    print("|---|---:|---:|---:|---|")
    for name in args.programs:
        now = measure(HERE, name, args.length, args.repeat, args.timeout)
        base = (
            measure(args.baseline, name, args.length, args.repeat, args.timeout)
            if (args.baseline)
            else {}
        )
        print(_row(name, base, now))
    return 0


def _row(name: str, base: dict, now: dict) -> str:
    def cell(r: dict) -> str:
        return f"{r['seconds']:.2f}" if "seconds" in r else r.get("error", "-")

    ratio = "-"
    if "seconds" in base and "seconds" in now:
        ratio = f"{base['seconds'] / now['seconds']:.1f}x"
    return f"| {name} | {cell(base)} | {cell(now)} | {ratio} | {now.get('certificate', '-')} |"


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("compile_time.py: interrupted", file=sys.stderr)
        sys.exit(130)
