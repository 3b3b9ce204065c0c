"""Entry point of the ``rasplab`` command: argument parsing and dispatch.

``main(argv)`` returns the exit code: 0 on success, 1 when a check or an input
fails (or rasplab reports an error), 2 for usage errors and unknown programs.
User errors print ``error: <message>`` on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import ProgramNotFoundError, RaspError
from ..puzzles import cli as puzzles
from ..train import cli as train_cli
from . import analyse, compile, demo, draw, listing, repl, run

__all__ = ["main", "build_parser", "EXIT_OK", "EXIT_FAILURE", "EXIT_USAGE"]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2

SUBCOMMANDS = (run, analyse, listing, demo, draw, compile, repl, puzzles, train_cli)


def build_parser() -> argparse.ArgumentParser:
    """The ``rasplab`` parser with one subparser per subcommand module."""
    parser = argparse.ArgumentParser(
        prog="rasplab",
        description="RASP programs: run them, analyse their layers and heads, check the library.",
        epilog="Programs: lib:NAME (see `rasplab list`), file.py:ATTR or file.rasp[:NAME].",
    )
    parser.add_argument("--version", action="version", version=f"rasplab {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print machine-readable JSON")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in SUBCOMMANDS:
        module.add_parser(subparsers, common)
    return parser


def _error(message: str, code: int) -> int:
    """Print ``error: message`` on stderr and return ``code``."""
    print(f"error: {message}", file=sys.stderr)
    return code


def _parse(argv: Sequence[str] | None) -> argparse.Namespace | int:
    """Parsed arguments, or the exit code argparse asked for (help, version, usage)."""
    try:
        return build_parser().parse_args(argv)
    except SystemExit as stop:
        code = stop.code
        return code if isinstance(code, int) else (EXIT_OK if code is None else EXIT_USAGE)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line on ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    args = _parse(argv)
    if isinstance(args, int):
        return args
    try:
        return args.func(args)
    except ProgramNotFoundError as err:
        return _error(str(err), EXIT_USAGE)
    except RaspError as err:
        return _error(str(err), EXIT_FAILURE)
    except BrokenPipeError:
        sys.stderr.close()  # output cut short by a closed pipe (e.g. `| head`)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return _error("interrupted", 130)


if __name__ == "__main__":
    sys.exit(main())
