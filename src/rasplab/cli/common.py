"""What every subcommand reads and writes the same way: tokens, input files, output paths, sizes.

One rule reads tokens, for ``--input`` and ``--vocab`` alike:

* a plain string is one token per character: ``cab`` is ``c``, ``a``, ``b``;
* a string with commas is split at them: ``a,b,c``; if every item is a
  number they are numbers (``1,2,3``), else strings (``ab,cd``);
* a string that starts with ``[`` or ``{`` must be a JSON list:
  ``["ab", "cd"]``, ``[1, 2]``, ``[",", "a"]`` (the way to write a comma token).

>>> parse_tokens("cab"), parse_tokens("a,b,c"), parse_tokens("1, 2, 3")
(['c', 'a', 'b'], ['a', 'b', 'c'], [1, 2, 3])
>>> parse_tokens('["ab", 1]'), parse_tokens("ab,cd")
(['ab', 1], ['ab', 'cd'])
>>> try:
...     parse_tokens("[1,2")
... except InputError as err:
...     print(err)
--input '[1,2' is not a valid JSON list: Expecting ',' delimiter at character 4
>>> parse_size("512M"), parse_size("4G"), parse_size("1000")
(536870912, 4294967296, 1000)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from ..errors import InputError, TrainingError

__all__ = [
    "parse_tokens",
    "parse_size",
    "positive_int",
    "non_negative_int",
    "read_input_file",
    "check_output",
    "write_guard",
    "check_vocabulary",
    "add_limit_flags",
    "evaluator_limits",
    "DEFAULT_MAX_INPUT_BYTES",
    "subcommand",
    "PROGRAM_HELP",
    "INPUT_HELP",
    "VOCAB_HELP",
    "ANY_TOKENS_HELP",
    "typed_setting",
]

DEFAULT_MAX_INPUT_BYTES = 64 * 2**20  # an inputs file larger than this is refused
_SIZE_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def parse_tokens(text: str, flag: str = "--input") -> list[Any]:
    """Tokens written on the command line (see the module docstring for the rule)."""
    stripped = text.strip()
    if stripped.startswith(("[", "{")):
        return _json_tokens(text, stripped, flag)
    if "," in text:
        items = [item.strip() for item in text.split(",")]
        if "" in items:
            raise InputError(
                f"{flag} {text!r} has an empty token between commas; "
                'write a comma token inside a JSON list, e.g. [",", "a"]'
            )
        return _numbers(items) or items
    return list(text)


def _json_tokens(text: str, stripped: str, flag: str) -> list[Any]:
    """The JSON list ``stripped``; an InputError pointing at the first mistake otherwise."""
    try:
        value = json.loads(stripped)
    except json.JSONDecodeError as err:
        raise InputError(
            f"{flag} {text!r} is not a valid JSON list: {err.msg} at character {err.pos}"
        ) from None
    if not isinstance(value, list):
        raise InputError(
            f"{flag} {text!r} is a JSON {type(value).__name__}, not a list of tokens; "
            "write tokens as a JSON list like [1, 2, 3] or as a,b,c"
        )
    return value


def _numbers(items: Sequence[str]) -> list[Any] | None:
    """The items as numbers if every one is a JSON number, else ``None``."""
    numbers = []
    for item in items:
        try:
            value = json.loads(item)
        except ValueError:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        numbers.append(value)
    return numbers


def count_of(text: str, *, least: int) -> int:
    """An int of at least ``least`` (argparse's usage error otherwise).

    >>> count_of("3", least=1)
    3
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"must be at least {least}, got {value}")
    return value


def positive_int(text: str) -> int:
    """A flag's value that must be 1 or more (a length, a size)."""
    return count_of(text, least=1)


def non_negative_int(text: str) -> int:
    """A flag's value that may be 0 (how many random inputs; 0 skips)."""
    return count_of(text, least=0)


def non_negative_seconds(text: str) -> float:
    """A time in seconds that may be 0 (0: do not spend any)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value >= 0 or value == float("inf"):  # NaN fails the first test
        raise argparse.ArgumentTypeError(f"seconds must be 0 or more and finite, got {text!r}")
    return value


def positive_seconds(text: str) -> float:
    """A time limit in seconds, more than 0."""
    value = non_negative_seconds(text)
    if value == 0:
        raise argparse.ArgumentTypeError("a time limit must be more than 0 seconds")
    return value


def parse_size(text: str) -> int:
    """A byte count: ``1000``, ``512K``, ``64M``, ``4G`` (binary units; a trailing B is fine)."""
    cleaned = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = cleaned[-1:] if cleaned[-1:] in _SIZE_UNITS else ""
    number = cleaned[: len(cleaned) - len(unit)]
    try:
        value = float(number)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a size: {text!r} (write e.g. 4G, 512M or 1000000)"
        ) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"a size must be positive, got {text!r}")
    return int(value * _SIZE_UNITS[unit])


def read_input_file(name: str | Path, max_bytes: int = DEFAULT_MAX_INPUT_BYTES) -> str:
    """The text of an inputs file (``-`` is standard input), read up to ``max_bytes``.

    Reading stops one byte past the limit, so an endless file (``/dev/zero``)
    is refused instead of filling the memory.
    """
    try:
        data = _read_bounded(str(name), max_bytes)
    except OSError as err:
        raise InputError(f"cannot read inputs file {str(name)!r}: {err.strerror or err}") from None
    if len(data) > max_bytes:
        raise InputError(
            f"inputs file {str(name)!r} is larger than the limit of {max_bytes:,} bytes; "
            "raise it with --max-input-bytes (e.g. --max-input-bytes 1G)"
        )
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(f"inputs file {str(name)!r} is not UTF-8 text: {err}") from None


def _read_bounded(name: str, max_bytes: int) -> bytes | str:
    if name == "-":
        stream = getattr(sys.stdin, "buffer", sys.stdin)  # text when a test replaced stdin
        return stream.read(max_bytes + 1)
    with open(name, "rb") as file:
        return file.read(max_bytes + 1)


def check_output(path: Path, suffixes: Iterable[str], command: str) -> Path:
    """Refuse, before any work, an output file the command cannot write.

    The suffix must be one ``command`` writes and the directory must exist
    and be writable.
    """
    accepted = tuple(suffixes)
    if path.suffix.lower() not in accepted:
        raise InputError(
            f"cannot write {str(path)!r}: {command} writes {_either(accepted)} files "
            "(the suffix of -o/--output picks the format)"
        )
    check_directory(path.parent, path)
    return path


def check_directory(directory: Path, target: Path) -> None:
    """The directory ``target`` goes into exists and is writable."""
    folder = directory if str(directory) else Path(".")
    if not folder.is_dir():
        raise InputError(f"cannot write {str(target)!r}: no directory {str(folder)!r}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"cannot write {str(target)!r}: directory {str(folder)!r} is read-only")
    try:  # what permissions do not show (/proc, a full disk): tried before any work is done
        tempfile.TemporaryDirectory(dir=folder).cleanup()
    except OSError as err:
        raise InputError(f"cannot write {str(target)!r}: {err.strerror or err}") from None


def _either(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def write_guard(path: Path, write: Callable[[], Any]) -> Any:
    """Run ``write``; an OSError becomes ``cannot write PATH: reason`` (exit code 2)."""
    try:
        return write()
    except OSError as err:
        raise InputError(f"cannot write {str(path)!r}: {err.strerror or err}") from None


def check_vocabulary(program: Any, tokens: Sequence[Any], any_tokens: bool) -> None:
    """Refuse tokens a library program is not defined on (unless ``--any-tokens``).

    Programs defined on any tokens (reverse, sort, hist...) take every token;
    programs from files declare no vocabulary, so their inputs are not checked.
    """
    entry = getattr(program, "entry", None)
    if entry is None or any_tokens:
        return
    outside: list[Any] = []
    for token in tokens:
        if not entry.accepts(token) and token not in outside:
            outside.append(token)
    if outside:
        shown = "".join(tokens) if all(isinstance(t, str) for t in tokens) else list(tokens)
        raise InputError(
            f"input {shown!r} has tokens outside lib:{entry.name}'s vocabulary: "
            f"{_token_list(outside)}; it reads {_token_list(entry.vocab)} "
            "(pass --any-tokens to run it anyway)"
        )


def _token_list(tokens: Sequence[Any]) -> str:
    shown = [repr(t) for t in list(tokens)[:20]]
    return " ".join(shown) + (" ..." if len(tokens) > 20 else "")


def add_limit_flags(parser: argparse.ArgumentParser, *, input_file: bool = False) -> None:
    """``--max-memory`` (the job's memory budget) and, for inputs files, ``--max-input-bytes``."""
    parser.add_argument(
        "--max-memory",
        type=parse_size,
        metavar="SIZE",
        help="memory the job may use, e.g. 4G or 512M (default 4G); a job that would need "
        "more is refused before it starts",
    )
    if input_file:
        parser.add_argument(
            "--max-input-bytes",
            type=parse_size,
            default=DEFAULT_MAX_INPUT_BYTES,
            metavar="SIZE",
            help="largest inputs file read (default 64M)",
        )


def evaluator_limits(args: argparse.Namespace) -> dict[str, Any]:
    """``max_bytes`` for the evaluator and the compiler, when ``--max-memory`` was given."""
    max_bytes = getattr(args, "max_memory", None)
    return {} if max_bytes is None else {"max_bytes": max_bytes}


def subcommand(
    subparsers: Any,
    name: str,
    common: argparse.ArgumentParser | None,
    *,
    help: str,
    description: str,
    examples: str,
    aliases: Sequence[str] = (),
) -> argparse.ArgumentParser:
    """Register one subcommand with the shared options and an ``Examples:`` epilog."""
    return subparsers.add_parser(
        name,
        aliases=list(aliases),
        parents=[] if common is None else [common],
        help=help,
        description=description,
        epilog="examples:\n" + examples.strip("\n"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


PROGRAM_HELP = "lib:NAME (or NAME), path/to/file.py:ATTR or path/to/file.rasp[:NAME]"
INPUT_HELP = (
    "the input: a string is one token per character (cab); a,b,c or a JSON list "
    '([3,1,2], ["ab","c"]) for multi-character or number tokens'
)
VOCAB_HELP = "the tokens, read like --input: abc, a,b,c, 1,2,3 or a JSON list"
ANY_TOKENS_HELP = "let a library program read tokens outside its vocabulary"


def typed_setting(item: str, value: Any, default: Any) -> Any:
    """A ``--set FIELD=VALUE`` value (read as JSON: lists as tuples) as the type of the
    field's default (an int for a float field is fine); TrainingError quoting ``item``.

    >>> typed_setting("lr=1", 1, 0.5)
    1.0
    """
    if isinstance(value, list):
        value = tuple(value)
    if isinstance(default, float) and type(value) is int:
        return float(value)
    if default is not None and type(value) is not type(default):
        wanted = type(default).__name__
        raise TrainingError(f"--set {item!r}: expected a {wanted}, got {value!r}")
    return value
