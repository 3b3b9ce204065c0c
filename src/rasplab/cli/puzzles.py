"""``rasplab puzzles``: list the puzzles, start a directory of exercises, check it.

``main(argv)`` runs one action (``["list"]``) and returns the exit code: 0
when every checked puzzle is solved, 1 while any is unsolved, over budget,
uses a forbidden operation or fails to load, 2 for usage errors (an unknown
puzzle, a missing directory, a file that cannot be written).

>>> main(["list"])  # doctest: +ELLIPSIS
 #  puzzle            budget                       signature
 1  index             1 layer, 1 head per layer    index(i)
...
0
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..puzzles.catalog import PUZZLES, PuzzleNotFound, get
from ..puzzles.deadline import DEFAULT_TIME_LIMIT
from ..puzzles.exercises import start
from ..puzzles.progress import check_dir, table, to_json

__all__ = ["main", "run", "build_parser", "add_parser", "EXIT_OK", "EXIT_UNSOLVED", "EXIT_USAGE"]

EXIT_OK, EXIT_UNSOLVED, EXIT_USAGE = 0, 1, 2
_DETAILED = ("wrong", "over budget", "forbidden", "error")


DESCRIPTION = "Transformer puzzles: write RASP within a layer and head budget."
EXAMPLES = """
  rasplab puzzles list                 the puzzles with their layer and head budgets
  rasplab puzzles show split           one puzzle's statement
  rasplab puzzles start mywork/        one exercise file (a stub) per puzzle
  rasplab puzzles check mywork/        the progress table (exit 1 while any is unsolved)
  rasplab puzzles check mywork/ shift --hint --json
"""


def build_parser() -> argparse.ArgumentParser:
    """The standalone ``rasplab puzzles`` parser: ``list``, ``show``, ``start``, ``check``."""
    parser = argparse.ArgumentParser(
        prog="rasplab puzzles",
        description=DESCRIPTION,
        epilog="examples:\n" + EXAMPLES.strip("\n"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _populate(parser)
    return parser


def _populate(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="puzzles_action", metavar="ACTION", required=True)
    p = sub.add_parser("list", help="the puzzles, easy to hard, with their budgets")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p = sub.add_parser("show", help="one puzzle's statement")
    p.add_argument("name")
    p = sub.add_parser("start", help="write exercise files (stubs) into DIR")
    p.add_argument("dir", type=Path)
    p.add_argument("--force", action="store_true", help="overwrite existing files")
    p = sub.add_parser("check", help="check the solutions in DIR; print the progress table")
    p.add_argument("dir", type=Path)
    p.add_argument("names", nargs="*", metavar="NAME", help="only these puzzles")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.add_argument("--hint", action="store_true", help="show hints for unsolved puzzles")
    p.add_argument("--seed", type=int, default=0, help="seed of the random inputs")
    p.add_argument(
        "--time-limit",
        type=float,
        default=DEFAULT_TIME_LIMIT,
        metavar="SECONDS",
        help=f"time allowed per puzzle (default {DEFAULT_TIME_LIMIT:g}); past it, the puzzle fails",
    )


def _list(args: argparse.Namespace) -> int:
    if args.json:
        rows = [
            {"number": p.number, "name": p.name, "title": p.title, "signature": p.signature,
             "n_layers": p.layers, "heads_per_layer": p.heads, "allowed": p.rules.allowed(),
             "aggregation_modes": sorted(p.rules.modes)}
            for p in PUZZLES.values()
        ]  # fmt: skip
        print(json.dumps({"puzzles": rows}, indent=2))
        return EXIT_OK
    print(f"{'#':>2}  {'puzzle':<17} {'budget':<28} signature")
    for p in PUZZLES.values():
        print(f"{p.number:>2}  {p.name:<17} {p.budget:<28} {p.signature}")
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    puzzle = get(args.name)
    print(puzzle.describe())
    return EXIT_OK


def _start(args: argparse.Namespace) -> int:
    written = start(args.dir, list(PUZZLES.values()), force=args.force)
    for path, fresh in written:
        print(f"{'wrote' if fresh else 'kept '} {path}")
    print(f"next: edit the files, then `rasplab puzzles check {args.dir}`")
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    if not args.dir.is_dir():
        return _usage(f"{args.dir} is not a directory (`rasplab puzzles start {args.dir}`)")
    for name in args.names:
        get(name)  # unknown names are usage errors, before any checking
    results = check_dir(args.dir, args.names or None, seed=args.seed, time_limit=args.time_limit)
    if args.json:
        print(json.dumps(to_json(results, args.hint), indent=2, default=repr))
    else:
        for result in results:
            if result.status in _DETAILED or (args.hint and not result.solved):
                print(result.report(hints=args.hint))
                print()
        print(table(results))
    return EXIT_OK if all(r.solved for r in results) else EXIT_UNSOLVED


def _usage(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USAGE


_ACTIONS = {"list": _list, "show": _show, "start": _start, "check": _check}


def run(args: argparse.Namespace) -> int:
    """Run parsed ``rasplab puzzles`` arguments; return the exit code."""
    try:
        return _ACTIONS[args.puzzles_action](args)
    except PuzzleNotFound as err:
        return _usage(str(err).strip("'\""))
    except OSError as err:
        where = f"cannot write {str(err.filename)!r}: " if err.filename else ""
        return _usage(f"{where}{err.strerror or err}")


def main(argv: list[str] | None = None) -> int:
    """Run ``rasplab puzzles`` on ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    return run(args)


def add_parser(subparsers: Any, common: argparse.ArgumentParser | None = None) -> None:
    """Register ``puzzles`` on the ``rasplab`` parser (``func`` runs it, as other commands)."""
    p = subparsers.add_parser(
        "puzzles",
        help="transformer puzzles: list, start DIR, check DIR",
        description=DESCRIPTION,
        epilog="examples:\n" + EXAMPLES.strip("\n"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _populate(p)
    p.set_defaults(func=run)
