"""What the benchmarks timing this checkout beside another one share: their arguments'
checks (compile_time.py, forward.py)."""

from __future__ import annotations

import argparse

from rasplab.library import PROGRAMS


def check_arguments(
    parser: argparse.ArgumentParser, args: argparse.Namespace, **counts: int
) -> None:
    """``parser.error`` unless ``--baseline`` (if given) holds a rasplab package, every one
    of ``--programs`` is a library program, and each of ``counts`` is at least 1."""
    if args.baseline is not None and not (args.baseline / "rasplab").is_dir():
        parser.error(f"--baseline {args.baseline}: no rasplab package in that folder")
    unknown = [p for p in args.programs if p not in PROGRAMS]
    if unknown:
        parser.error(f"not a library program: {unknown[0]!r}; see `rasplab list`")
    small = [name for name, value in counts.items() if value < 1]
    if small:
        parser.error(f"--{small[0]} must be at least 1")
