"""Compile every library program at several lengths; print size, speed and exactness.

    python benchmarks/compile.py                      # all programs, lengths 5..128
    python benchmarks/compile.py --programs sort reverse --lengths 10 20 40
    python benchmarks/compile.py --markdown > table.md
    python benchmarks/compile.py --programs reverse --lengths 10 20 --tracr 40

Columns: compile seconds (best of 3 up to length 40), layers (with attention
/ the paper's analysis), d_model, parameters (total and non-zero), forward
time for a batch of 64 inputs of the maximum length (PyTorch on CPU if
installed, else numpy; best of 7 rounds of 5 calls), and the fraction of
random inputs (from the program's sampler, float32) whose decoded output
equals the evaluator's. With ``--tracr N`` (and the ``bench`` extra), tracr
compiles the same program, translated node by node, at every length up to
N, and its figures from this run follow, with ratios to ours
(``tracr_side.py``); otherwise tracr's recorded figures follow in brackets
where they exist.

BLAS and PyTorch run single-threaded so that timings are stable on a shared
machine (set RASPLAB_BENCH_THREADS to change that).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time

_THREADS = os.environ.get("RASPLAB_BENCH_THREADS", "1")
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, _THREADS)
if _THREADS == "1":  # tracr's jax too, when --tracr runs it
    os.environ.setdefault(
        "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    )

import numpy as np  # noqa: E402
from timing import best_ms  # noqa: E402

from rasplab import progress  # noqa: E402
from rasplab.compiler import compile_program, verify  # noqa: E402
from rasplab.errors import CompileError  # noqa: E402
from rasplab.library import PROGRAMS  # noqa: E402

LENGTHS = (5, 10, 20, 40, 80, 128)

# tracr's figures (tracr-pypi 1.0.0, jax, 2-core CPU, vocabulary of 5):
# (layers, d_model, params, compile s, batch-64 forward ms, exact fraction)
TRACR = {
    ("length", 5): (1, 20, 1373, 2.5, 0.35, 1.0),
    ("hist", 5): (1, 20, 1373, 2.8, 0.5, 1.0),
    ("reverse", 5): (4, 45, 20649, 3.8, 1.0, 1.0),
    ("reverse", 10): (4, 75, 95_000, 2.4, 2.5, 0.895),
    ("reverse", 20): (4, 135, 551_000, 2.5, 11.8, 0.515),
    ("reverse", 40): (4, 255, 3_700_000, 5.0, 100.0, 0.285),
    ("sort", 5): (3, 50, 25_000, 3.1, 1.0, 1.0),
    ("sort", 10): (3, 85, 81_000, 3.3, 3.9, 1.0),
    ("sort", 20): (3, 155, 289_000, 2.8, 8.0, 0.61),
    ("sort", 40): (3, 295, 1_090_000, 3.5, 52.0, 0.355),
    ("sort_unique", 20): (2, 85, 33_000, 2.5, 1.6, 0.465),
    ("sort_unique", 40): (2, 165, 124_000, 2.3, 6.5, 0.285),
    ("most_freq", 5): (5, 68, 66_000, 3.6, 1.9, 1.0),
}


def setup(entry, n: int) -> tuple[list, object]:
    """Vocabulary and sampler; sort_unique uses a vocabulary of size n, as tracr's figures do."""
    if entry.name == "sort_unique":
        return list(range(n)), lambda rng, k: rng.sample(range(n), k)
    return vocab_for(entry, n), entry.sample


def vocab_for(entry, n: int) -> list:
    """The entry's vocabulary plus every token its sampler produces at this length."""
    vocab, seen = list(entry.vocab), {(type(t), t) for t in entry.vocab}
    rng = random.Random(0)
    for _ in range(100):
        for t in entry.sample(rng, n):
            if (type(t), t) not in seen:
                seen.add((type(t), t))
                vocab.append(t)
    return vocab


def forward_ms(model, sample, n: int) -> tuple[float, str]:
    """Best of 7 rounds of the mean time of 5 forward calls, after 3 warm-up calls.

    The best round, as ``timeit`` advises: slower rounds measure other work on
    the machine, not the model.
    """
    rng = random.Random(1)
    ids = np.stack([model.encode(sample(rng, n)) for _ in range(64)])
    try:
        import torch

        from rasplab.model.torch import from_compiled

        torch.set_num_threads(int(_THREADS))
        module = from_compiled(model)
        batch = torch.tensor(ids)
        with torch.no_grad():
            return best_ms(lambda: module(batch)), "torch"
    except ImportError:
        return best_ms(lambda: model.forward(ids)), "numpy"


def _compile(entry, vocab: list, n: int, sample) -> tuple[object, float]:
    """The compiled model and the best of 3 compile times (one compile past length 40).

    Each compile starts from a freshly built program, so nothing is reused.
    """
    best = float("inf")
    for _ in range(3 if n <= 40 else 1):
        start = time.perf_counter()
        model = compile_program(entry.build(), vocab, n, verify=0, sample=sample)
        best = min(best, time.perf_counter() - start)
    return model, best


def measure(name: str, n: int, samples: int, tracr: bool = False) -> dict:
    entry = PROGRAMS[name]
    vocab, sample = setup(entry, n)
    try:
        sample(random.Random(0), n)
    except ValueError:
        return {"skip": "the sampler cannot make inputs this long"}
    try:
        model, seconds = _compile(entry, vocab, n, sample)
    except CompileError as err:
        return {"skip": str(err).splitlines()[1].strip("- ")[:70]}
    check = verify(model, entry.build(), samples, sample=sample, seed=7)
    ms, engine = forward_ms(model, sample, n)
    info = model.info
    extra = {}
    if tracr:
        from tracr_side import measure as tracr_measure

        extra["tracr"] = tracr_measure(entry.build(), vocab, n, samples, sample)
    return extra | {
        "compile": seconds,
        "layers": f"{model.n_layers} ({info.attention_layers}/{info.analysis_layers})",
        "d_model": model.d_model,
        "params": model.n_params,
        "nonzero": model.n_nonzero,
        "forward": ms,
        "engine": engine,
        "exact": check.fraction,
    }


def _tracr(name: str, n: int, r: dict) -> str:
    """tracr's figures: measured in this run (``--tracr``), else the recorded ones."""
    t = r.get("tracr")
    if t is None:
        t = TRACR.get((name, n))
        if t is None:
            return ""
        return f"[tracr: {t[0]} layers, d {t[1]}, {t[2]:,} params, {t[3]} s, {t[4]} ms, {t[5]:.1%}]"
    if "skip" in t:
        return f"tracr: {t['skip']}"
    return (
        f"tracr: {t['layers']} layers, d {t['d_model']}, {t['params']:,} params "
        f"({t['params'] / r['params']:.1f}x ours), {t['compile']:.1f} s, "
        f"fwd {t['forward']:.1f} ms ({t['forward'] / r['forward']:.0f}x ours), "
        f"jit {t['forward_jit']:.2f} ms ({t['forward_jit'] / r['forward']:.1f}x), "
        + _tracr_exact(t)
    )


def _tracr_exact(t: dict) -> str:
    if t["translation"] == 1:
        return f"exact {t['exact']:.1%}"
    # tracr's categorical aggregates have no default: where nothing is selected
    # its program differs from ours, so its model's outputs cannot be compared
    return f"exact: not comparable (tracr's own evaluator agrees on {t['translation']:.1%})"


def row(name: str, n: int, r: dict, markdown: bool) -> str:
    if "skip" in r:
        cells = [name, str(n), "-", "-", "-", "-", "-", "-", r["skip"]]
    else:
        cells = [
            name, str(n), f"{r['compile']:.3f}", r["layers"], str(r["d_model"]),
            f"{r['params']:,} ({r['nonzero']:,})", f"{r['forward']:.2f}", f"{r['exact']:.1%}",
            _tracr(name, n, r),
        ]  # fmt: skip
    if markdown:
        return "| " + " | ".join(cells) + " |"
    widths = (14, 5, 8, 10, 8, 24, 9, 7, 0)
    return " ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", nargs="*", default=sorted(PROGRAMS))
    parser.add_argument("--lengths", nargs="*", type=int, default=list(LENGTHS))
    parser.add_argument("--samples", type=int, default=200, help="random inputs per check")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    parser.add_argument(
        "--slow",
        type=float,
        default=60.0,
        help="skip longer lengths once a compile takes this long",
    )
    parser.add_argument(
        "--tracr",
        type=int,
        default=0,
        metavar="N",
        help="also compile and measure with tracr, up to length N (needs rasplab[bench])",
    )
    args = parser.parse_args(argv)
    if args.tracr:
        from tracr_side import available

        if not available():
            parser.error("--tracr needs tracr and jax: pip install 'rasplab[bench]'")
    head = ["program", "len", "compile s", "layers", "d_model", "params (non-zero)",
            "fwd ms/64", "exact", "tracr (same program, length)"]  # fmt: skip
    if args.markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
    else:
        print("  ".join(head))
    for name in progress.bar(args.programs, desc="compile", unit="program"):
        too_slow = None
        for n in sorted(args.lengths):
            if too_slow is not None:
                result = {
                    "skip": f"skipped: compiling at length {too_slow} took over {args.slow} s"
                }
            else:
                result = measure(name, n, args.samples, tracr=n <= args.tracr)
                if result.get("compile", 0.0) > args.slow:
                    too_slow = n
            progress.note(row(name, n, result, args.markdown), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
