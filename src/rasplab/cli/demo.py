"""``rasplab demo``: run, analyse and check every library program.

For each program: its built-in examples (input -> output, checked against the
plain-Python reference), its layer/head analysis (compared with the paper's
where the catalogue records it), agreement with the reference on random
inputs from a fixed seed, and its compiled transformer (layers, and exact
outputs on the same random inputs; ``--no-compile`` skips it).

>>> same([1, 0.1 + 0.2, "a"], [1, 0.3, "a"]), same([True], [1.0])
(True, False)
"""

from __future__ import annotations

import argparse
import math
import random
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from .. import progress
from ..analysis import analyse
from ..evaluate import coerce_input, evaluate, evaluate_batch
from ..lang.nodes import SOp
from ..library import PROGRAMS, LibraryProgram, get
from . import render
from .analyse import paper_match
from .common import (
    add_limit_flags,
    evaluator_limits,
    non_negative_int,
    positive_int,
    subcommand,
)

__all__ = ["add_parser", "command", "ProgramCheck", "check_program", "same"]


EXAMPLES = """
  rasplab demo                          every library program (exit 1 if any check fails)
  rasplab demo sort dyck2 --samples 50 --json
  rasplab demo --no-compile --quiet     skip the compiled models; details of failures only
"""


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Register ``demo``."""
    p = subcommand(
        subparsers,
        "demo",
        common,
        help="run, analyse, check and compile every library program",
        description="Run each library program's examples, analyse it, compare with the "
        "paper, check it against its reference on random inputs, and compile it to an exact "
        "transformer checked on the same inputs.",
        examples=EXAMPLES,
    )
    p.add_argument("names", nargs="*", metavar="NAME", help="only these library programs")
    p.add_argument("--samples", "-n", type=non_negative_int, default=500, help="random inputs each")
    p.add_argument("--seed", type=int, default=0, help="seed of the random inputs")
    p.add_argument("--max-len", type=positive_int, default=16, help="longest random input")
    p.add_argument("--quiet", "-q", action="store_true", help="details of failed programs only")
    p.add_argument(
        "--no-compile", dest="compile", action="store_false", help="skip the compiled models"
    )
    add_limit_flags(p)
    p.set_defaults(func=command)


def _same_value(a: Any, b: Any) -> bool:
    """Equal values; numbers up to rounding, but a bool is not a number here."""
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers):
        if isinstance(a, bool) != isinstance(b, bool):
            return False
        return a == b or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def same(got: list[Any], expected: list[Any]) -> bool:
    """Program output equals the reference's (floats up to rounding)."""
    got, expected = list(got), list(expected)
    return len(got) == len(expected) and all(map(_same_value, got, expected))


@dataclass
class ProgramCheck:
    """Everything ``demo`` found out about one library program."""

    name: str
    summary: str = ""
    n_layers: int | None = None
    heads_per_layer: list[int] | None = None
    paper: dict[str, Any] | None = None
    examples: list[dict[str, Any]] = field(default_factory=list)
    random_passed: int = 0
    random_total: int = 0
    counterexample: dict[str, Any] | None = None
    compiled_n_layers: int | None = None  # the compiled transformer's layers, when compiled
    compiled_exact: int = 0  # random inputs on which its decoded output is the evaluator's
    compile_ms: float = 0.0
    time_ms: float = 0.0
    error: str | None = None

    @property
    def ok(self) -> bool:
        """No error, examples right, paper matched (if known), every random input right."""
        return (
            self.error is None
            and all(e["ok"] for e in self.examples)
            and (self.paper is None or self.paper["match"])
            and self.random_passed == self.random_total
            and (self.compiled_n_layers is None or self.compiled_exact == self.random_total)
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record, ``ok`` included."""
        return {**asdict(self), "ok": self.ok}


def _examples(entry: LibraryProgram, sop: SOp) -> list[dict[str, Any]]:
    """Run the catalogue's examples and compare each with the reference."""
    results = []
    for example in entry.examples:
        xs = coerce_input(example)
        output, expected = evaluate(sop, xs), entry.reference(list(xs))
        results.append(
            {"input": xs, "output": output, "expected": expected, "ok": same(output, expected)}
        )
    return results


def _random_check(
    check: ProgramCheck, entry: LibraryProgram, sop: SOp, args
) -> tuple[list[list[Any]], list[list[Any]]]:
    """Compare program and reference on ``args.samples`` random inputs; return both."""
    rng = random.Random(f"{args.seed}:{entry.name}")
    low = max(1, entry.min_len)
    high = max(low, _longest(entry, args.max_len))
    inputs = [entry.sample(rng, rng.randint(low, high)) for _ in range(args.samples)]
    outputs = evaluate_batch(sop, inputs, **evaluator_limits(args))
    check.random_total = len(inputs)
    for xs, output in zip(inputs, outputs, strict=True):
        expected = entry.reference(list(xs))
        if same(output, expected):
            check.random_passed += 1
        elif check.counterexample is None:
            check.counterexample = {"input": xs, "output": output, "expected": expected}
    return inputs, outputs


def _longest(entry: LibraryProgram, max_len: int) -> int:
    """``--max-len``, or less where the program's sampler draws no longer input."""
    return max_len if entry.max_len is None else min(max_len, entry.max_len)


def _compile_check(check: ProgramCheck, entry: LibraryProgram, sop: SOp, inputs, outputs, args):
    """Compile at ``--max-len`` and count the random inputs the model gets exactly right."""
    from ..compiler import compile_program

    start = time.perf_counter()
    n = max(_longest(entry, args.max_len), entry.min_len)
    model = compile_program(sop, entry.vocab, n, verify=0, sample=entry.sample)
    check.compile_ms = (time.perf_counter() - start) * 1000
    check.compiled_n_layers = model.n_layers
    got = model.run(inputs) if inputs else []
    check.compiled_exact = sum(same(g, want) for g, want in zip(got, outputs, strict=True))


def _analyse(check: ProgramCheck, entry: LibraryProgram, sop: SOp) -> None:
    """Record the layers and heads, and whether they match the paper."""
    analysis = analyse(sop)
    check.n_layers = analysis.n_layers
    check.heads_per_layer = list(analysis.heads_per_layer)
    if entry.paper is not None:
        check.paper = {
            "n_layers": entry.paper[0],
            "heads_per_layer": list(entry.paper[1]),
            "match": bool(paper_match(entry, analysis)),
        }


def check_program(entry: LibraryProgram, args: argparse.Namespace) -> ProgramCheck:
    """Build, run, analyse and randomly check one program; failures are recorded, not raised."""
    check = ProgramCheck(entry.name, entry.summary)
    start = time.perf_counter()
    try:
        sop = entry.build()
        check.examples = _examples(entry, sop)
        _analyse(check, entry, sop)
        inputs, outputs = _random_check(check, entry, sop, args)
        if getattr(args, "compile", True):
            _compile_check(check, entry, sop, inputs, outputs, args)
    except Exception as err:  # a self-check: report any failure and go on
        check.error = f"{type(err).__name__}: {err}"
    check.time_ms = (time.perf_counter() - start) * 1000
    return check


def _shape(check: ProgramCheck) -> str:
    """``N layers, heads per layer [...]; paper ...: match`` for the text report."""
    if check.n_layers is None:
        return "not analysed"
    text = f"{render.plural(check.n_layers, 'layer')}, heads per layer {check.heads_per_layer}"
    if check.paper is not None:
        verdict = "match" if check.paper["match"] else "MISMATCH"
        paper = render.plural(check.paper["n_layers"], "layer")
        text += f"; paper {paper}, {check.paper['heads_per_layer']}: {verdict}"
    return text


def _print_check(check: ProgramCheck) -> None:
    """The text report of one program: examples, random check, errors."""
    print(f"{check.name}  ({_shape(check)})")
    for e in check.examples:
        line = f"  {render.sequence(e['input'])} -> {render.sequence(e['output'])}"
        print(line if e["ok"] else f"{line}  FAIL, expected {render.sequence(e['expected'])}")
    total = render.plural(check.random_total, "random input")
    if check.random_total:
        print(f"  random: {check.random_passed}/{total} agree with the reference")
    if check.compiled_n_layers is not None:
        print(
            f"  compiled: {render.plural(check.compiled_n_layers, 'layer')}, exact on "
            f"{check.compiled_exact}/{total} (compiled in {check.compile_ms:.0f} ms)"
        )
    if check.counterexample is not None:
        c = {k: render.sequence(v) for k, v in check.counterexample.items()}
        print(f"  first disagreement: {c['input']} -> {c['output']}, expected {c['expected']}")
    if check.error is not None:
        print(f"  error: {check.error}")


def _summary_row(check: ProgramCheck) -> list[Any]:
    """One row of the summary table."""
    paper = "-" if check.paper is None else ("match" if check.paper["match"] else "MISMATCH")
    heads = "?" if check.heads_per_layer is None else str(check.heads_per_layer)
    examples = f"{sum(e['ok'] for e in check.examples)}/{len(check.examples)}"
    random_ = f"{check.random_passed}/{check.random_total}"
    compiled = "-"
    if check.compiled_n_layers is not None:
        compiled = f"{check.compiled_exact}/{check.random_total}"
    status = "ok" if check.ok else "FAIL"
    layers = check.n_layers if check.n_layers is not None else "?"
    ms = f"{check.time_ms:.0f}"
    return [check.name, layers, heads, paper, examples, random_, compiled, ms, status]


def _verdict(checks: list[ProgramCheck]) -> str:
    """The final line: all passed, or which programs failed."""
    failed = [c.name for c in checks if not c.ok]
    if not failed:
        return f"{render.plural(len(checks), 'program')}, all checks passed"
    return f"{render.plural(len(checks), 'program')}, {len(failed)} failed: {', '.join(failed)}"


def command(args: argparse.Namespace) -> int:
    """Run ``rasplab demo``; exit code 1 if any check fails."""
    entries = [get(n) for n in args.names] if args.names else list(PROGRAMS.values())
    programs = progress.bar(entries, desc="demo", unit="program", quiet=args.quiet or args.json)
    checks = [check_program(entry, args) for entry in programs]
    if args.json:
        data = {
            "programs": [c.to_dict() for c in checks],
            "n_programs": len(checks),
            "failed": [c.name for c in checks if not c.ok],
            "ok": all(c.ok for c in checks),
            "summary": _verdict(checks),
        }
        print(render.dumps(data))
    else:
        for check in checks:
            if args.quiet and check.ok:
                continue  # quiet: only the failures in full
            _print_check(check)
            print()
        header = ["program", "layers", "heads", "paper", "examples", "random", "compiled"]
        header += ["ms", "status"]
        print(render.table(header, [_summary_row(c) for c in checks], align="lrllrrrrl"))
        print(_verdict(checks))
    return 0 if all(c.ok for c in checks) else 1
