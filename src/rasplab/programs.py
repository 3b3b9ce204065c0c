"""Turn a program name from the command line into an s-op.

A name is one of

* ``lib:NAME`` -- a program of the library catalogue (plain ``NAME`` works
  too when the library has it);
* ``path/to/file.py:ATTR`` -- attribute ``ATTR`` of that file, an s-op or a
  zero-argument callable returning one;
* ``path/to/file.rasp[:NAME]`` -- an s-op of a RASP source file (default: its
  output, the ``# output: NAME`` comment or the last s-op assigned).

File types are handled by the loaders in :data:`LOADERS` (suffix -> loader),
so another front end plugs in with :func:`register_loader`.

>>> resolve("lib:reverse").name, resolve("hist").entry.name
('reverse', 'hist')
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import DefinitionError, ProgramNotFoundError, RaspError
from .lang.nodes import Indices, Length, Node, SOp, Tokens
from .library import PROGRAMS, LibraryProgram
from .library import get as library_get

__all__ = [
    "Program",
    "Loader",
    "LOADERS",
    "register_loader",
    "resolve",
    "library_names",
    "load_python",
    "load_rasp",
    "ProgramLoadError",
]

LIBRARY_PREFIX = "lib:"
PRIMITIVES = (Tokens, Indices, Length)


class ProgramLoadError(DefinitionError):
    """A program file exists but cannot be loaded: it fails to import, exits, or
    names something that is not an s-op."""


Loader = Callable[[Path, str | None], "SOp | Program"]
"""Load the program ``attr`` (``None`` when the name had no ``:ATTR``) from a file."""


@dataclass(frozen=True)
class Program:
    """A resolved program: the name to show, the s-op, its library entry if any."""

    name: str
    sop: SOp
    entry: LibraryProgram | None = None
    reader: Callable[[Any], list[Any]] | None = None  # raw input -> tokens (.rasp token types)

    def read(self, raw: Any) -> list[Any]:
        """One raw command-line input as this program's tokens."""
        return self.reader(raw) if self.reader is not None else raw


def library_names() -> list[str]:
    """The catalogue's program names, sorted."""
    return sorted(PROGRAMS)


def _from_library(name: str) -> Program:
    """Build the library program ``name``."""
    entry = library_get(name)
    return Program(entry.name, _require_sop(entry.build(), f"{LIBRARY_PREFIX}{name}"), entry)


def _require_sop(value: Any, where: str) -> SOp:
    """``value`` if it is an s-op, else a ``ProgramLoadError`` naming ``where``."""
    if isinstance(value, SOp):
        return value
    shown = value.label if isinstance(value, Node) else f"{type(value).__name__} {value!r}"
    raise ProgramLoadError(f"{where} must be an s-op (or a function returning one), got {shown}")


def _split_file_spec(spec: str) -> tuple[Path, str | None] | None:
    """``file.ext:ATTR`` or ``file.ext`` with a registered suffix, else ``None``."""
    path, sep, attr = spec.rpartition(":")
    if sep and Path(path).suffix in LOADERS:
        return Path(path), attr or None
    if Path(spec).suffix in LOADERS:
        return Path(spec), None
    return None


def _unknown(spec: str) -> ProgramNotFoundError:
    """The one-line error for a name that is neither a library program nor a file."""
    known = ", ".join(library_names())
    kinds = ", ".join(f"path/to/file{s}:ATTR" for s in sorted(LOADERS))
    return ProgramNotFoundError(
        f"unknown program {spec!r}; library programs: {known} (or name one as {kinds})"
    )


def resolve(spec: str) -> Program:
    """The program called ``spec``; ``ProgramNotFoundError`` if there is none."""
    if spec.startswith(LIBRARY_PREFIX):
        return _from_library(spec[len(LIBRARY_PREFIX) :])
    file_spec = _split_file_spec(spec)
    if file_spec is not None:
        path, attr = file_spec
        if not path.is_file():
            raise ProgramNotFoundError(f"no such program file: {path}")
        loaded = LOADERS[path.suffix](path, attr)
        return loaded if isinstance(loaded, Program) else Program(spec, loaded)
    if spec in PROGRAMS:
        return _from_library(spec)
    raise _unknown(spec)


def _import_file(path: Path) -> Any:
    """Import a Python file by its path, under a name unique to that path."""
    resolved = path.resolve()
    digest = hashlib.sha1(str(resolved).encode()).hexdigest()[:12]
    module_name = f"rasplab_user_{resolved.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, resolved)
    if spec is None or spec.loader is None:
        raise ProgramNotFoundError(f"cannot import {path} as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except RaspError:
        sys.modules.pop(module_name, None)
        raise
    except SystemExit as stop:  # a script's sys.exit() must not end the caller silently
        sys.modules.pop(module_name, None)
        raise ProgramLoadError(
            f"importing {path} failed: it called sys.exit({stop.code!r}) while loading"
        ) from None
    except Exception as err:  # user code: report it in one line
        sys.modules.pop(module_name, None)
        raise ProgramLoadError(f"importing {path} failed: {type(err).__name__}: {err}") from err
    return module


def _sop_names(module: Any) -> list[str]:
    """Public s-op attributes of a module, leaving out the imported primitives."""
    return sorted(
        k
        for k, v in vars(module).items()
        if isinstance(v, SOp) and not isinstance(v, PRIMITIVES) and not k.startswith("_")
    )


def load_python(path: Path, attr: str | None) -> SOp:
    """Attribute ``attr`` of the Python file ``path``: an s-op or a zero-argument factory."""
    module = _import_file(path)
    choices = ", ".join(_sop_names(module)) or "none"
    if attr is None:
        raise ProgramNotFoundError(
            f"name the program inside {path} as {path}:ATTR; s-ops there: {choices}"
        )
    if not hasattr(module, attr):
        raise ProgramNotFoundError(f"{path} has no attribute {attr!r}; s-ops there: {choices}")
    value = getattr(module, attr)
    where = f"{path}:{attr}"
    if callable(value) and not isinstance(value, Node):
        try:
            value = value()
        except RaspError:
            raise
        except SystemExit as stop:
            raise ProgramLoadError(f"calling {where}() called sys.exit({stop.code!r})") from None
        except Exception as err:  # user code: report it in one line
            raise ProgramLoadError(
                f"calling {where}() failed: {type(err).__name__}: {err}"
            ) from err
    return _require_sop(value, where)


def load_rasp(path: Path, attr: str | None) -> Program:
    """The s-op ``attr`` of a ``.rasp`` file (default: its output), read by its token type."""
    from .syntax import load

    program = load(path)
    name = f"{path}:{attr}" if attr else str(path)
    return Program(name, program.sop(attr), reader=program.read_input)


LOADERS: dict[str, Loader] = {".py": load_python, ".rasp": load_rasp}


def register_loader(suffix: str, loader: Loader) -> None:
    """Let ``file<suffix>[:ATTR]`` names load through ``loader`` (e.g. ``".rasp"``)."""
    if not suffix.startswith("."):
        raise DefinitionError(f"a file suffix starts with '.', got {suffix!r}")
    LOADERS[suffix] = loader
