"""The forward pass of compiled models, this checkout beside another one, in one run.

    python benchmarks/forward.py                                       # this checkout alone
    git worktree add /tmp/before <commit>
    python benchmarks/forward.py --baseline /tmp/before/src            # with a ratio column
    python benchmarks/forward.py --programs sort dyck2 --length 512 --inputs 32 --repeat 5

Each model is compiled once, here, and saved to a file; each checkout loads that
file in a child process (``PYTHONPATH`` set to its ``src``) and runs the same
random inputs through ``model.run`` in float32 (what a compile's check does),
the best of ``--repeat`` runs. A hash of the decoded outputs is shown beside the
times: both checkouts must decode the same outputs. Run it with
``OMP_NUM_THREADS=1`` on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from checkouts import check_arguments

from rasplab.compiler import compile_program
from rasplab.library import PROGRAMS
from rasplab.model.io import save

CHILD = """
import hashlib, json, random, sys, time
from rasplab.library import PROGRAMS
from rasplab.model.io import load
path, name, n, count, repeat = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])
model, entry = load(path), PROGRAMS[name]
rng = random.Random(0)
inputs = [entry.sample(rng, rng.randint(1, n)) for _ in range(count)]
times = []
for _ in range(repeat):
    start = time.perf_counter()
    out = model.run(inputs)
    times.append(time.perf_counter() - start)
digest = hashlib.sha256(repr(out).encode()).hexdigest()[:12]
print(json.dumps({"seconds": min(times), "outputs": digest}))
"""

HERE = Path(__file__).resolve().parents[1] / "src"


def measure(src: Path, path: Path, name: str, n: int, args: argparse.Namespace) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src)}
    argv = [str(path), name, str(n), str(args.inputs), str(args.repeat)]
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, *argv],
            env=env,
            capture_output=True,
            text=True,
            timeout=args.timeout,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"did not finish in {args.timeout:g} s"}
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1][:80]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", nargs="+", default=["reverse", "sort", "most_freq", "dyck1"])
    parser.add_argument("--length", type=int, default=1024)
    parser.add_argument("--inputs", type=int, default=64, help="random inputs per run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per checkout; the best")
    parser.add_argument("--baseline", type=Path, help="another checkout's src folder")
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    check_arguments(parser, args, length=args.length, inputs=args.inputs, repeat=args.repeat)
    columns = ["program", "length", "params", "d_model", "baseline s", "this checkout s"]
    print("| " + " | ".join([*columns, "ratio", "outputs"]) + " |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as folder:
        for name in args.programs:
            entry = PROGRAMS[name]
            model = compile_program(entry.build(), list(entry.vocab), args.length, verify=0)
            path = save(model, Path(folder) / f"{name}.safetensors")
            base = measure(args.baseline, path, name, args.length, args) if args.baseline else {}
            now = measure(HERE, path, name, args.length, args)
            print(_row(name, args.length, model, base, now), flush=True)
    return 0


def _row(name: str, n: int, model, base: dict, now: dict) -> str:
    def cell(r: dict) -> str:
        return f"{r['seconds']:.2f}" if "seconds" in r else r.get("error", "-")

    ratio = "-"
    if "seconds" in base and "seconds" in now:
        ratio = f"{base['seconds'] / now['seconds']:.1f}x"
    outputs = now.get("outputs", "-")
    if base and base.get("outputs") != now.get("outputs"):
        outputs += " (baseline differs)"
    return (
        f"| {name} | {n:,} | {model.n_params:,} | {model.d_model} | {cell(base)} "
        f"| {cell(now)} | {ratio} | {outputs} |"
    )


if __name__ == "__main__":
    sys.exit(main())
