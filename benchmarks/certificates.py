"""Certificates by bounds at long lengths: status, float type, margins and seconds.

    python benchmarks/certificates.py                 # the table in docs/benchmarks.md
    python benchmarks/certificates.py --rows sort:abc:64 hist:abc:1024

Each row compiles the program (``compile_with_blueprint``) and then proves it
by bound propagation alone (``certify(..., method="bounds")``), with a time
budget of ``--seconds`` for the bounds. "bounds s" is the certificate's own
time; the compile is not counted.
"""

from __future__ import annotations

import argparse
import time

from rasplab.compiler.certify import certify
from rasplab.compiler.driver import compile_with_blueprint
from rasplab.errors import RaspError
from rasplab.library import get

ROWS = (
    "reverse:abc:1024",
    "shift:abc:1024",
    "index:abc:1024",
    "length:abc:1024",
    "hist:abc:1024",
    "sort:abc:8",
    "sort:abc:64",
    "sort:abc:256",
    "most_freq:abc:8",
    "most_freq:abc:64",
    "dyck1:():64",
    "dyck2:()[:16",
)


def row_spec(text: str) -> tuple[str, str, int]:
    """``program:vocabulary:length`` (the vocabulary may hold colons), checked."""
    parts = text.rsplit(":", 2)
    if len(parts) != 3 or not parts[2].isdigit() or int(parts[2]) < 1:
        raise argparse.ArgumentTypeError(f"want program:vocabulary:length, got {text!r}")
    return parts[0], parts[1], int(parts[2])


def measure(name: str, vocab: str, n: int, seconds: float) -> str:
    program = get(name).build()
    model, blueprint = compile_with_blueprint(program, list(vocab), n)
    start = time.perf_counter()
    proof = certify(model, program, blueprint=blueprint, method="bounds", bounds_seconds=seconds)
    took = time.perf_counter() - start
    wide = "-" if proof.worst_margin is None else f"{proof.worst_margin:.5g}"
    narrow = "-" if proof.worst_margin_float32 is None else f"{proof.worst_margin_float32:.5g}"
    if proof.proved:
        what = "proved"
    elif proof.dtype == "float64":
        what = "float64 proved; " + proof.open[-1][:140]
    else:
        what = "open: " + proof.open[-1][:140]
    return f"| {name} | {n} | {what} | {wide} / {narrow} | {took:.1f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows",
        nargs="+",
        type=row_spec,
        default=[row_spec(r) for r in ROWS],
        help="program:vocabulary:length",
    )
    parser.add_argument("--seconds", type=float, default=120.0, help="the bounds' budget")
    args = parser.parse_args()
    print("| program | max len | certificate | worst margin float64 / float32 | bounds s |")
    print("|---|---|---|---|---|")
    for name, vocab, n in args.rows:
        try:
            print(measure(name, vocab, n, args.seconds), flush=True)
        except RaspError as err:  # an unknown program, a refused compile: say so, go on
            print(f"| {name} | {n} | not measured: {str(err).splitlines()[0][:120]} | - | - |")


if __name__ == "__main__":
    main()
