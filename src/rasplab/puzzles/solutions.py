"""Solutions: where they come from (an s-op, a function, a file) and how to build them.

A solution file defines an attribute named after the puzzle: a function
taking the puzzle's parameters and returning an s-op, or (for puzzles
without parameters) the s-op itself. A ``.rasp`` file is read by the surface
language when this installation has it. Whatever goes wrong, the player
gets one clean line naming their file and line, never a traceback.

>>> from rasplab import tokens
>>> from rasplab.puzzles import get
>>> s = as_solution(tokens, get("histogram"))
>>> s.build({}) is tokens
True
"""

from __future__ import annotations

import importlib.util
import inspect
import itertools
import sys
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import RaspError
from ..lang.nodes import Node, SOp
from .puzzle import Puzzle, call_text

__all__ = ["Solution", "SolutionError", "NotStarted", "as_solution", "load_file", "describe_error"]

_PACKAGE_DIR = str(Path(__file__).resolve().parents[1])
_module_ids = itertools.count()


class SolutionError(RaspError):
    """A solution could not be loaded or built; the message says why, in one line."""


class NotStarted(SolutionError):
    """The solution is still the stub (it raises ``NotImplementedError``)."""


def describe_error(err: BaseException) -> str:
    """``Type: message (file.py, line N)`` at the innermost frame outside rasplab.

    >>> try:
    ...     1 / 0
    ... except ZeroDivisionError as e:
    ...     describe_error(e).startswith("ZeroDivisionError: division by zero (")
    True
    """
    text = f"{type(err).__name__}: {err}"
    if isinstance(err, SyntaxError) and err.filename:
        return f"SyntaxError: {err.msg} ({Path(err.filename).name}, line {err.lineno})"
    frames = [
        f
        for f in traceback.extract_tb(err.__traceback__)
        if not f.filename.startswith(_PACKAGE_DIR)
    ]
    if frames:
        text += f" ({Path(frames[-1].filename).name}, line {frames[-1].lineno})"
    return text


@dataclass(frozen=True)
class Solution:
    """How to build the program for one set of parameters."""

    puzzle: Puzzle
    make: Callable[..., Any] | SOp
    source: str = "<python>"
    note: str = ""

    @property
    def fixed(self) -> bool:
        """An s-op rather than a function: only the first parameter set can be checked."""
        return isinstance(self.make, SOp)

    def parameter_sets(self) -> tuple[dict[str, Any], ...]:
        return self.puzzle.params[:1] if self.fixed else self.puzzle.params

    def build(self, params: Mapping[str, Any]) -> SOp:
        """The program for ``params``; ``SolutionError`` with a clean message on failure."""
        if isinstance(self.make, SOp):
            return self.make
        shown = call_text(self.puzzle.name, params) if params else f"{self.puzzle.name}()"
        try:
            made = _call(self.make, params)
        except NotImplementedError:
            raise NotStarted(f"{shown} is not written yet") from None
        except (Exception, SystemExit) as err:  # the player's code: report, never re-raise
            raise SolutionError(f"{shown} failed: {describe_error(err)}") from None
        if not isinstance(made, SOp):
            what = f"the selector {made.label}" if isinstance(made, Node) else repr(made)
            raise SolutionError(f"{shown} returned {what}; it must return an s-op")
        return made


def _call(make: Callable[..., Any], params: Mapping[str, Any]) -> Any:
    """By keyword when the signature allows it, else positionally (in the puzzle's order)."""
    try:
        inspect.signature(make).bind(**params)
    except (TypeError, ValueError):
        return make(*params.values())
    return make(**params)


def _lookup(namespace: Any, puzzle: Puzzle, source: str) -> Any:
    if isinstance(namespace, Mapping):
        found = namespace.get(puzzle.name)
    else:
        found = getattr(namespace, puzzle.name, None)
    if found is None:
        raise SolutionError(f"{source} defines no `{puzzle.name}`; define {_wanted(puzzle)}")
    return found


def as_solution(obj: Any, puzzle: Puzzle, source: str = "<python>") -> Solution:
    """Wrap an s-op or a function (or a namespace holding one) as a :class:`Solution`."""
    if isinstance(obj, Solution):
        return obj
    namespace = isinstance(obj, Mapping) or hasattr(obj, "__dict__")
    if namespace and not isinstance(obj, Node) and not callable(obj):  # a module, a mapping
        obj = _lookup(obj, puzzle, source)
    if isinstance(obj, SOp):
        note = ""
        if puzzle.parameters:
            only = call_text(puzzle.name, puzzle.params[0])
            note = f"an s-op has no parameters: checked as {only} only"
        return Solution(puzzle, obj, source, note)
    if callable(obj) and not isinstance(obj, Node):
        return Solution(puzzle, obj, source)
    what = f"the selector {obj.label}" if isinstance(obj, Node) else type(obj).__name__
    raise SolutionError(f"`{puzzle.name}` in {source} is {what}; define {_wanted(puzzle)}")


def _wanted(puzzle: Puzzle) -> str:
    return f"`def {puzzle.signature}:` returning an s-op"


def _load_python(path: Path) -> Any:
    name = f"_rasplab_puzzle_{next(_module_ids)}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SolutionError(f"cannot read {path.name} as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as err:  # the player's module: report, never re-raise
        raise SolutionError(f"loading {path.name} failed: {describe_error(err)}") from None
    finally:
        sys.modules.pop(name, None)
    return module


def _load_rasp(path: Path) -> Any:
    load: Callable[[Path], Any] | None
    try:
        from ..syntax import load as syntax_load
    except ImportError:
        load = None
    else:
        load = syntax_load
    if load is None:
        raise SolutionError(
            f"{path.name}: this installation cannot read .rasp files (no surface language)"
        )
    try:
        return load(path)
    except RaspError as err:  # a syntax or type error in the player's file
        text = str(err)
        raise SolutionError(text if path.name in text else f"{path.name}: {text}") from None
    except Exception as err:  # the player's file made the interpreter fail some other way
        raise SolutionError(f"{path.name}: {describe_error(err)}") from None


def _from_rasp(program: Any, puzzle: Puzzle, name: str) -> Solution:
    """The file's own ``NAME`` or ``solution``; else, without parameters, its output s-op.

    The standard library's names never count: the surface language reserves
    some puzzle names (``length``, ``sort``, ``shift``), hence ``solution``.
    """
    own = dict(getattr(program, "names", None) or {})
    for key in (puzzle.name, "solution"):
        if key in own:
            return as_solution(own[key], puzzle, name)
    if not puzzle.parameters:
        try:
            return as_solution(program.output, puzzle, name)
        except SolutionError:
            raise
        except RaspError as err:
            raise SolutionError(f"{name}: {err}") from None
    raise SolutionError(f"{name} defines no `{puzzle.name}` or `solution` function")


def load_file(path: Path, puzzle: Puzzle) -> Solution:
    """The solution for ``puzzle`` defined in the ``.py`` or ``.rasp`` file ``path``."""
    path = Path(path)
    if not path.is_file():
        raise SolutionError(f"{path} does not exist")
    if path.suffix == ".rasp":
        return _from_rasp(_load_rasp(path), puzzle, path.name)
    return as_solution(_load_python(path), puzzle, path.name)
