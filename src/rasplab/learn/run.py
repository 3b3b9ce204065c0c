"""One learning run: fit a size grid over seeds, keep the best program, read it out,
check it against the evaluator, simplify it, and write the run folder.

The folder is written whole or not at all: everything goes into a temporary
folder beside it, renamed into place at the end. Under ``torchrun`` the grid
points are shared among the processes and rank 0 writes.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import progress
from ..errors import TrainingError
from .config import LearnConfig
from .data import Encoded, Examples, encode, load_task, split
from .discrete import Program
from .fit import FitResult, Score, fit, score
from .readout import python_source, rasp_source, to_sop
from .simplify import Simplified, simplify
from .verify import Equivalence, equivalence

__all__ = ["Outcome", "learn", "write_run", "RUN_FILES"]

RUN_FILES = ("metrics.json", "results.md", "program.rasp", "program.py", "full.rasp", "full.py")


@dataclass
class Outcome:
    """What a run found, ready to be written and reported."""

    task: str
    best: FitResult
    size: tuple[int, int]  # (layers, heads of each kind) of the kept fit
    grid: list[dict[str, Any]]  # one row per (size, seed): validation and test accuracy
    test: Score  # the discrete program on test examples
    simple: Simplified
    simple_test: Score
    checks: dict[str, Equivalence]  # read-out == discrete model, on the test inputs
    seconds: float
    examples: Examples

    def metrics(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "size": {"layers": self.size[0], "heads": self.size[1]},
            "seed": self.best.seed,
            "val_acc": self.best.val.token_acc,
            "test_acc": self.test.token_acc,
            "test_seq_acc": self.test.seq_acc,
            "test_undefined": self.test.undefined,
            "simplified_test_acc": self.simple_test.token_acc,
            "simplified_test_seq_acc": self.simple_test.seq_acc,
            "size_before": self.simple.before.to_dict(),
            "size_after": self.simple.after.to_dict(),
            "readout": {name: _check_dict(c) for name, c in self.checks.items()},
            "grid": self.grid,
            "seconds": round(self.seconds, 1),
            "history": self.best.history,
            "polish": self.best.polished,
        }


def _check_dict(check: Equivalence) -> dict[str, Any]:
    return dict(
        checked=check.checked,
        mismatches=check.mismatches,
        undefined=check.undefined,
        equal=check.equal,
        example=check.example,
    )


def _rank() -> tuple[int, int]:
    return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))


def _gather(found: list[tuple[int, FitResult]]) -> list[tuple[int, FitResult]]:
    """Every process's fits (under torchrun), in grid order."""
    rank, world = _rank()
    if world <= 1:
        return found
    from .config import require_torch

    dist = require_torch().distributed
    owned = not dist.is_initialized()
    if owned:
        dist.init_process_group(backend="gloo")  # CPU; the fits are small
    parts: list[Any] = [None] * world
    dist.all_gather_object(parts, found)
    if owned:
        dist.destroy_process_group()
    return sorted((pair for part in parts for pair in part), key=lambda pair: pair[0])


def _fit_grid(examples, train, val, config, sizes, seeds, quiet: bool):
    points = [(s, seed) for s in sizes for seed in seeds]
    rank, world = _rank()
    mine = [(i, p) for i, p in enumerate(points) if i % world == rank]
    total = sum(config.steps * config.restarts for _ in mine)
    found = []
    with progress.bar(total=total, desc=f"learn {len(points)} fits", quiet=quiet) as bar:
        for index, ((layers, heads), seed) in mine:
            cfg = config.replace(layers=layers, heads=heads)
            found.append((index, fit(examples, train, val, cfg, seed, tick=bar.update)))
    return points, _gather(found)


def _pick(points, fits: list[tuple[int, FitResult]]) -> tuple[int, FitResult]:
    """The best validation accuracy; the smaller size and the earlier seed on ties."""
    return max(fits, key=lambda pair: (pair[1].val.token_acc, -pair[0]))


def learn(
    task: str,
    config: LearnConfig,
    sizes: Sequence[tuple[int, int]],
    seeds: Sequence[int],
    *,
    vocab_size: int = 8,
    max_len: int = 8,
    quiet: bool = True,
) -> Outcome:
    """Fit every (layers, heads) in ``sizes`` for every seed; read out and check the best."""
    config.check()
    start = time.monotonic()
    n = config.n_train + config.n_val + config.n_test
    examples = load_task(task, vocab_size=vocab_size, max_len=max_len, n=n, seed=seeds[0])
    train, val, test = split(examples, config.n_train, config.n_val, config.n_test, seeds[0])
    points, fits = _fit_grid(examples, train, val, config, sizes, seeds, quiet)
    index, best = _pick(points, fits)
    test_e, train_e = _encoded(test, examples), _encoded(train, examples)
    simple = simplify(best.program, train_e, ablation=config.ablate)
    checks = {
        "learned": equivalence(best.program, to_sop(best.program), test.inputs),
        "simplified": equivalence(simple.program, to_sop(simple.program), test.inputs),
        "learned vs simplified": _agreement(best.program, simple.program, test.inputs),
    }
    grid = [_grid_row(points[i], fit_, test_e) for i, fit_ in fits]
    return Outcome(
        task,
        best,
        points[index][0],
        grid,
        score(best.program, test_e),
        simple,
        score(simple.program, test_e),
        checks,
        time.monotonic() - start,
        examples,
    )


def _agreement(a: Program, b: Program, inputs: list[list[Any]]) -> Equivalence:
    """Whether two discrete programs give the same outputs (``b`` read out, ``a`` run)."""
    return equivalence(a, to_sop(b), inputs)


def _encoded(part: Examples, whole: Examples) -> Encoded:
    return encode(Examples(part.inputs, part.outputs, whole.vocab, whole.labels, whole.max_len))


def _grid_row(point, fitted: FitResult, test: Encoded) -> dict[str, Any]:
    (layers, heads), seed = point
    found = score(fitted.program, test)
    return dict(
        layers=layers,
        heads=heads,
        seed=seed,
        val_acc=fitted.val.token_acc,
        test_acc=found.token_acc,
        test_seq_acc=found.seq_acc,
        seconds=round(fitted.seconds, 1),
    )


def accuracy_table(outcome: Outcome) -> str:
    """The grid as a markdown table (per-position accuracy of the discrete program)."""
    lines = ["| layers | heads | seed | val acc | test acc | test seq acc | seconds |"]
    lines.append("| --- | --- | --- | --- | --- | --- | --- |")
    for row in outcome.grid:
        lines.append(
            f"| {row['layers']} | {row['heads']} | {row['seed']} | {100 * row['val_acc']:.2f} "
            f"| {100 * row['test_acc']:.2f} | {100 * row['test_seq_acc']:.2f} | {row['seconds']} |"
        )
    return "\n".join(lines) + "\n"


def _header(outcome: Outcome, what: str) -> str:
    acc = outcome.simple_test if what == "simplified" else outcome.test
    return (
        f"Learned by rasplab learn from {outcome.task} ({what}).\n"
        f"Test accuracy {100 * acc.token_acc:.2f}% per position, "
        f"{100 * acc.seq_acc:.2f}% per input."
    )


def write_run(outcome: Outcome, out: Path, *, force: bool = False) -> list[str]:
    """Write the run folder atomically; the names of the files written."""
    if out.exists() and any(out.iterdir()) and not force:
        raise TrainingError(f"{out} is not empty; use --force to replace it")
    temp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent or Path(".")))
    try:
        _write_files(outcome, temp)
        if out.exists():
            shutil.rmtree(out)
        temp.rename(out)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return sorted(p.name for p in out.iterdir())


def _write_files(outcome: Outcome, folder: Path) -> None:
    from .plots import curves

    simple, full = outcome.simple.program, outcome.best.program
    drawn = curves(folder / "curves.png", outcome.best.history)
    metrics = outcome.metrics()
    metrics["plots"] = ["curves.png"] if drawn else "none: matplotlib is not installed"
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    (folder / "results.md").write_text(accuracy_table(outcome))
    (folder / "program.rasp").write_text(rasp_source(simple, header=_header(outcome, "simplified")))
    (folder / "program.py").write_text(python_source(simple, header=_header(outcome, "simplified")))
    (folder / "full.rasp").write_text(rasp_source(full, header=_header(outcome, "as learned")))
    (folder / "full.py").write_text(python_source(full, header=_header(outcome, "as learned")))
