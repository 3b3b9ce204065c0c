"""tracr's own programs compiled by tracr and by rasplab, at tracr's max length and twice it.

    python benchmarks/compile_tracr_programs.py                  # every case, x1 and x2
    python benchmarks/compile_tracr_programs.py --markdown > table.md
    python benchmarks/compile_tracr_programs.py --programs reverse sort --scales 1 2 4

For each case of ``tracr_programs.py`` (tracr's library, its compiler tests
and its notebook, with the vocabulary and max length tracr gives each) and
each scale, the same builder code makes the program twice: with tracr's
``rasp`` (compiled by ``compiling.compile_rasp_to_model``) and with
``rasplab.compat.tracr`` (compiled by ``compile_program``, ``verify=64``).
Each side compiles in its own worker process with a time limit
(``--timeout``, default 120 s); a side that fails or runs out of time is a
row saying so.

Columns: layers, residual width (d_model), parameters (tracr: every weight
array of the haiku params; rasplab: ``model.n_params``), compile seconds
(rasplab's includes its 64-input verification), whether rasplab verified
exact and its input domain (``all`` inputs, or ``declared``: only what the
sampler draws), the ratio rasplab/tracr of parameters, and the agreement of
the two compiled models on 32 random inputs at the lengths 1, n // 2, n - 1
and n: decoded outputs, compared where tracr's evaluator gives a value (its
model cannot output None), numbers equal within 1e-3 + 0.5% (tracr's tests
allow 0.5%); then how many of those inputs each model gets right against
tracr's own evaluator.

BLAS, jax and PyTorch run single-threaded (set RASPLAB_BENCH_THREADS to change that).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import re
import sys
import time
from pathlib import Path
from typing import Any

_THREADS = os.environ.get("RASPLAB_BENCH_THREADS", "1")
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, _THREADS)
if _THREADS == "1":
    os.environ.setdefault(
        "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    )
os.environ.setdefault("JAX_PLATFORMS", "cpu")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from tracr_programs import CASES, by_name  # noqa: E402

from rasplab import progress  # noqa: E402

BOS, PAD = "BOS", "PAD"


def _short(err: BaseException, limit: int = 200) -> str:
    text = re.sub(r"<[^>]*>", "...", str(err))
    lines = [s.strip("- ").strip() for s in text.splitlines() if s.strip()]
    # rasplab's CompileError: a heading line, then one line per blocker
    message = lines[1] if len(lines) > 1 and lines[0].endswith(":") else " ".join(lines)
    return f"{type(err).__name__}: {message[:limit]}"


# ---- the two sides, each run in a worker process -------------------------------------


def tracr_side(name: str, n: int, inputs: list[list]) -> dict:
    """tracr compiles the case; its figures, its model's outputs and its evaluator's."""
    import jax
    import numpy as np
    from tracr.compiler import compiling
    from tracr.rasp import rasp

    case = by_name(name)
    program = case.build(rasp, n)
    start = time.perf_counter()
    try:
        model = compiling.compile_rasp_to_model(
            program,
            set(case.vocab(n)),
            n,
            causal=case.causal,
            compiler_bos=BOS,
            compiler_pad=PAD if case.causal else None,
        )
    except Exception as err:  # tracr raises many kinds; the benchmark reports them
        return {"fail": "tracr: " + _short(err)}
    seconds = time.perf_counter() - start
    leaves = [np.asarray(x) for x in jax.tree_util.tree_leaves(model.params)]
    outputs: list[list | None] = [None] * len(inputs)
    by_len: dict[int, list[int]] = {}
    for i, xs in enumerate(inputs):
        by_len.setdefault(len(xs), []).append(i)
    forward = jax.jit(model.forward)  # eager haiku takes seconds per call
    for members in by_len.values():  # one batch per length: tracr has no padding mask
        ids = np.array([model.input_encoder.encode([BOS, *inputs[i]]) for i in members])
        rows = np.asarray(forward(model.params, ids).unembedded_output)
        for i, row in zip(members, rows, strict=True):
            decoded = row.tolist()
            if model.output_encoder is not None:
                decoded = model.output_encoder.decode(decoded)
            outputs[i] = decoded[1:]
    wanted = []
    for xs in inputs:
        try:
            wanted.append(rasp.evaluate(program, xs))
        except Exception:  # noqa: BLE001  (an input tracr's evaluator refuses: not compared)
            wanted.append(None)
    return {
        "layers": model.model_config.num_layers,
        "d_model": len(model.residual_labels),
        "params": sum(x.size for x in leaves),
        "nonzero": sum(int(np.count_nonzero(x)) for x in leaves),
        "compile": seconds,
        "outputs": outputs,
        "wanted": wanted,
    }


def rasplab_side(name: str, n: int, inputs: list[list]) -> dict:
    """rasplab compiles the compat program (verify=64); its figures and outputs."""
    from rasplab.compat import tracr as rasp
    from rasplab.compiler import compile_program

    case = by_name(name)
    program = case.build(rasp, n)
    start = time.perf_counter()
    try:
        model = compile_program(
            program, case.vocab(n), n, causal=case.causal, verify=64, sample=case.sample(n)
        )
    except Exception as err:  # CompileError, ResourceLimitError, or a bug: all reported
        return {"fail": "rasplab: " + _short(err)}
    seconds = time.perf_counter() - start
    info = model.info
    try:
        outputs = model.run(inputs)
    except Exception as err:  # noqa: BLE001
        outputs = [None] * len(inputs)
        print(f"  rasplab could not run {name} at {n}: {_short(err)}", file=sys.stderr)
    return {
        "layers": model.n_layers,
        "d_model": model.d_model,
        "params": model.n_params,
        "nonzero": model.n_nonzero,
        "compile": seconds,
        "exact": info.verified is not None and info.verified.exact,
        "domain": info.domain.kind,
        "notes": list(info.notes) + list(info.assumptions),
        "outputs": outputs,
    }


# ---- running a side with a time limit ---------------------------------------------------


class Worker:
    """A process that runs one side's compiles; replaced when one runs out of time."""

    def __init__(self, warm) -> None:
        self.pool: Any = None
        self.warm = warm

    def run(self, fn, args: tuple, timeout: float) -> dict:
        if self.pool is None:
            self.pool = mp.get_context("spawn").Pool(1)
            self.pool.apply(self.warm)  # imports happen here, outside the time limit
        job = self.pool.apply_async(fn, args)
        try:
            return job.get(timeout)
        except mp.TimeoutError:
            self.close()
            return {"fail": f"did not finish in {timeout:.0f} s"}
        except Exception as err:  # the worker died (out of memory, say)
            self.close()
            return {"fail": _short(err)}

    def close(self) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None


def _warm_tracr() -> None:
    import jax  # noqa: F401
    from tracr.compiler import compiling  # noqa: F401


def _warm_rasplab() -> None:
    import rasplab.compiler  # noqa: F401


def draw_inputs(case: Any, n: int, count: int, seed: int = 11) -> list[list]:
    """``count`` random inputs at the lengths 1, n // 2, n - 1 and n (in turn).

    Few lengths, because tracr's model runs one batch per length (it has no
    padding mask) and jax compiles anew for each shape, a second or more each.
    """
    rng = random.Random(seed)
    lengths = sorted({1, max(1, n // 2), max(1, n - 1), n})
    vocab = case.vocab(n)
    draw = case.sample(n) or (lambda r, k: [r.choice(vocab) for _ in range(k)])
    return [list(draw(rng, lengths[i % len(lengths)])) for i in range(count)]


# ---- comparing and printing ------------------------------------------------------------


def _same(a: Any, b: Any) -> bool:
    numbers = (int, float)  # bools too: tracr's mean of one False is False, its model's 0.0
    if isinstance(a, numbers) and isinstance(b, numbers):
        return abs(a - b) <= 1e-3 + 0.005 * abs(b)
    return a == b


def _agrees(got: list | None, want: list | None) -> bool | None:
    """Whether ``got`` matches ``want`` where ``want`` is not None (None: nothing to compare)."""
    if want is None:
        return None
    if got is None or len(got) != len(want):
        return False
    return all(_same(g, w) for g, w in zip(got, want, strict=True) if w is not None)


def agreement(ours: dict, theirs: dict) -> tuple[int, int, int, int]:
    """(compared, models agree, tracr's model right, rasplab's right), against tracr's evaluator."""
    compared = agree = tracr_right = ours_right = 0
    for mine, its, want in zip(ours["outputs"], theirs["outputs"], theirs["wanted"], strict=True):
        if want is None:
            continue
        compared += 1
        if its is not None and len(its) == len(want):  # tracr's outputs where want is not None
            agree += bool(
                _agrees(
                    mine, [x if w is not None else None for x, w in zip(its, want, strict=True)]
                )
            )
        tracr_right += bool(_agrees(its, want))
        ours_right += bool(_agrees(mine, want))
    return compared, agree, tracr_right, ours_right


HEAD = [
    "program", "len", "vocab",
    "tracr layers", "tracr d_model", "tracr params", "tracr s",
    "rasplab layers", "rasplab d_model", "rasplab params", "rasplab s", "verified / domain",
    "params rasplab/tracr", "models agree", "right: tracr / rasplab",
]  # fmt: skip


def cells(row: dict) -> list[str]:
    t, r = row["tracr"], row["rasplab"]
    out = [row["name"], str(row["n"]), str(row["vocab"])]
    if "fail" in t:
        out += ["-", "-", "-", "-"]
    else:
        out += [str(t["layers"]), str(t["d_model"]), f"{t['params']:,}", f"{t['compile']:.2f}"]
    if "fail" in r:
        out += ["-", "-", "-", "-", "-"]
    else:
        exact = "exact" if r["exact"] else "NOT exact"
        out += [str(r["layers"]), str(r["d_model"]), f"{r['params']:,}", f"{r['compile']:.2f}"]
        out += [f"{exact} / {r['domain']}"]
    if "agreement" not in row:
        out += [" ; ".join(x["fail"] for x in (t, r) if "fail" in x), "-", "-"]
    else:
        compared, agree, tracr_right, ours_right = row["agreement"]
        out += [
            f"{r['params'] / t['params']:.3f}",
            f"{agree}/{compared}",
            f"{tracr_right}/{compared} / {ours_right}/{compared}",
        ]
    return out


def show(row: list[str], markdown: bool) -> str:
    if markdown:
        return "| " + " | ".join(c.replace("|", "\\|") for c in row) + " |"
    widths = (22, 4, 5, 6, 7, 12, 7, 6, 7, 12, 7, 18, 10, 8, 0)
    return " ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()


def measure_row(case: Any, n: int, count: int, timeout: float, workers: tuple) -> dict:
    """Both sides on one case at max length ``n``: a JSON-ready record (no outputs)."""
    inputs = draw_inputs(case, n, count)
    t = workers[0].run(tracr_side, (case.name, n, inputs), timeout)
    r = workers[1].run(rasplab_side, (case.name, n, inputs), timeout)
    row: dict = {"name": case.name, "n": n, "vocab": len(case.vocab(n)), "where": case.where}
    if "fail" not in t and "fail" not in r:
        row["agreement"] = agreement(r, t)
    row["tracr"] = {k: v for k, v in t.items() if k not in ("outputs", "wanted")}
    row["rasplab"] = {k: v for k, v in r.items() if k != "outputs"}
    return row


def report(rows: list[dict], markdown: bool, notes: bool) -> None:
    """The summary line (and rasplab's compile notes) for the rows printed."""
    both = [x for x in rows if "agreement" in x]
    at_most = sum(x["rasplab"]["params"] <= x["tracr"]["params"] for x in both)
    agree = sum(x["agreement"][1] == x["agreement"][0] for x in both)
    print()
    print(
        f"rasplab's parameter count is at most tracr's on {at_most} of the {len(both)} rows "
        f"both sides compiled ({len(rows)} rows); the two models agree on every compared "
        f"input on {agree} of those {len(both)}"
    )
    if notes:
        print("\nrasplab's compile notes and assumptions:")
        for x in rows:
            for note in x["rasplab"].get("notes", []):
                print(f"- {x['name']} @ {x['n']}: {note}")


def _rasplab_source() -> str:
    import rasplab

    return str(Path(rasplab.__file__).resolve().parent)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = [c.name for c in CASES]
    parser.add_argument("--programs", nargs="*", default=names, choices=names, metavar="NAME")
    parser.add_argument("--scales", nargs="*", type=int, default=[1, 2], help="max-length factors")
    parser.add_argument("--part", default="1/1", help="I/K: run the I-th of K slices of the cases")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per side and row")
    parser.add_argument("--inputs", type=int, default=32, help="random inputs compared per row")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    parser.add_argument("--notes", action="store_true", help="print rasplab's compile notes")
    parser.add_argument("--save", metavar="JSONL", help="append each row's record to this file")
    parser.add_argument(
        "--load", nargs="*", metavar="JSONL", help="print the table of saved rows; compile nothing"
    )
    args = parser.parse_args(argv)

    if args.load is None:
        print(f"rasplab from {_rasplab_source()}", file=sys.stderr)
    print(show(HEAD, args.markdown), flush=True)
    if args.markdown:
        print("|" + "---|" * len(HEAD))
    rows: list[dict] = []
    if args.load is not None:
        for path in args.load:
            rows += [json.loads(line) for line in Path(path).read_text().splitlines() if line]
        order = {c.name: i for i, c in enumerate(CASES)}
        rows.sort(key=lambda x: (order.get(x["name"], len(order)), x["n"]))
        for row in rows:
            print(show(cells(row), args.markdown))
        report(rows, args.markdown, args.notes)
        return 0
    part, parts = (int(x) for x in args.part.split("/"))
    chosen = [name for i, name in enumerate(args.programs) if i % parts == part - 1]
    workers = (Worker(_warm_tracr), Worker(_warm_rasplab))
    start = time.perf_counter()
    try:
        for name in progress.bar(chosen, desc="compile", unit="program"):
            for scale in args.scales:
                case = by_name(name)
                row = measure_row(
                    case, case.max_seq_len * scale, args.inputs, args.timeout, workers
                )
                rows.append(row)
                if args.save:
                    with open(args.save, "a") as out:
                        out.write(json.dumps(row) + "\n")
                progress.note(show(cells(row), args.markdown), sys.stdout)
    finally:
        for worker in workers:
            worker.close()
    report(rows, args.markdown, args.notes)
    print(f"({time.perf_counter() - start:.0f} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
