"""Entry point of the ``rasplab`` command: argument parsing, dispatch and exit codes.

``main(argv)`` returns the exit code, defined once here:

* 0 -- the command did its job;
* 1 -- the job ran and failed: a check failed, the program raised while it
  ran, the compiler refused, a memory or time limit was reached (``--max-memory``,
  ``--time-limit``);
* 2 -- the job could not start: a bad flag, an unknown program or one that
  cannot be loaded, a malformed input, an unreadable or too large inputs
  file, an output path that cannot be written.

Errors print ``error: <message>`` on stderr, never a traceback.

>>> from rasplab.errors import InputError, CompileError
>>> exit_code(InputError("bad")), exit_code(CompileError("no"))
(2, 1)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import InputError, ProgramNotFoundError, RaspError, RaspSyntaxError
from ..programs import ProgramLoadError
from ..syntax import RaspLoadError
from . import analyse, compile, demo, draw, lab, learn, listing, puzzles, repl, run, train

__all__ = ["main", "build_parser", "exit_code", "EXIT_OK", "EXIT_FAILURE", "EXIT_USAGE"]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # the shell's code for Ctrl-C

# Errors that mean the job could not start; every other RaspError is a failed job.
USAGE_ERRORS: tuple[type[RaspError], ...] = (
    ProgramNotFoundError,
    ProgramLoadError,
    InputError,
    RaspSyntaxError,
    RaspLoadError,
)

SUBCOMMANDS = (run, analyse, listing, demo, draw, compile, repl, puzzles, train, lab, learn)

EXAMPLES = """
  rasplab list                                   the library programs
  rasplab run lib:sort --input cab               every named s-op, per position
  rasplab analyse lib:dyck2                      layers and heads
  rasplab compile lib:sort --max-len 8 -o sort.safetensors
  rasplab lab --open                             the browser lab: edit, watch, compile, puzzles
  rasplab learn lib:hist -o hist-learned         a RASP program learned from examples
  rasplab COMMAND --help                         each command's options and examples

exit codes: 0 ok, 1 the check or the program failed, 2 usage or input error
"""


def build_parser() -> argparse.ArgumentParser:
    """The ``rasplab`` parser with one subparser per subcommand module."""
    parser = argparse.ArgumentParser(
        prog="rasplab",
        description="RASP programs: run them, analyse their layers and heads, compile, "
        "draw and train them. Programs: lib:NAME (see `rasplab list`), file.py:ATTR "
        "or file.rasp[:NAME].",
        epilog="examples:\n" + EXAMPLES.strip("\n"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"rasplab {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print machine-readable JSON")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in SUBCOMMANDS:
        module.add_parser(subparsers, common)
    return parser


def exit_code(err: RaspError) -> int:
    """The exit code of an error: 2 if the job could not start, else 1."""
    return EXIT_USAGE if isinstance(err, USAGE_ERRORS) else EXIT_FAILURE


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
    except RaspError as err:
        return _error(str(err), exit_code(err))
    except BrokenPipeError:
        sys.stderr.close()  # output cut short by a closed pipe (e.g. `| head`)
        return EXIT_FAILURE
    except OSError as err:  # a folder or file the system refused, wherever it was met
        where = f": {err.filename}" if err.filename else ""
        return _error(f"{err.strerror or err}{where}", EXIT_FAILURE)
    except KeyboardInterrupt:
        return _error("interrupted", EXIT_INTERRUPTED)


if __name__ == "__main__":
    sys.exit(main())
