"""Scopes: where names live, which names are reserved, and what a ``load`` exports.

Lookups go from the innermost scope outwards. A function call gets its own
scope whose parent is the scope the function was defined in (so functions
are closures); ``for`` loops assign in the scope they run in. A loaded file
runs in a fresh scope below the base scope, and each of its public
assignments (a name not starting with ``_``) is copied into the scope that
loaded it.

>>> base = Scope(name="base")
>>> top = Scope(base, name="program", reserved={"length"})
>>> top.assign("x", 1); top.lookup("x")
1
>>> top.assign("length", 2)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
rasplab.syntax.errors.ReservedNameError: cannot assign to 'length': it is reserved ...
"""

from __future__ import annotations

import builtins
import difflib
from typing import Any

from ..lang.dsl import indices
from .errors import ReservedNameError, UndefinedNameError
from .values import TOKEN_TYPES, TokenVariant

__all__ = ["Scope", "CONSTANTS", "RESERVED"]

#: Names every scope sees and no program may assign.
CONSTANTS: dict[str, Any] = {
    **{f"tokens_{kind}": TokenVariant(kind) for kind in TOKEN_TYPES},
    "indices": indices,
    "True": True,
    "False": False,
}
#: Reserved everywhere: the constants, the builtins, and ``out`` (the last result).
RESERVED = frozenset(CONSTANTS) | {"out", "range", "zip", "len", "get"}


class Scope:
    """A mapping of names to values with a parent, reserved names and an export target."""

    def __init__(
        self,
        parent: Scope | None = None,
        *,
        name: str = "scope",
        reserved: set[str] | frozenset[str] = frozenset(),
        exports_to: Scope | None = None,
    ) -> None:
        self.parent = parent
        self.name = name
        self.reserved = frozenset(reserved)
        self.exports_to = exports_to
        self.vars: dict[str, Any] = {}
        self.history: list[str] = []  # names in assignment order (the last one last)

    def lookup(self, name: str) -> Any:
        if name in CONSTANTS:
            return CONSTANTS[name]
        scope: Scope | None = self
        while scope is not None:
            if name in scope.vars:
                return scope.vars[name]
            scope = scope.parent
        raise UndefinedNameError(f"unknown name {name!r}{self._suggest(name)}")

    def defines(self, name: str) -> bool:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.vars:
                return True
            scope = scope.parent
        return name in CONSTANTS

    def assign(self, name: str, value: Any) -> None:
        if name in RESERVED:
            raise ReservedNameError(f"cannot assign to {name!r}: it is a reserved name")
        if name in self.reserved:
            raise ReservedNameError(
                f"cannot assign to {name!r}: it is reserved (the standard library's)"
            )
        self.set(name, value)
        if self.exports_to is not None and not name.startswith("_"):
            self.exports_to.assign(name, value)

    def set(self, name: str, value: Any) -> None:
        """Bind without checks (the interpreter's own names: ``out``, the library)."""
        self.vars[name] = value
        if name in self.history:
            self.history.remove(name)
        self.history.append(name)

    def all_names(self) -> builtins.set[str]:  # ``set`` here names the method above
        names = set(CONSTANTS)
        scope: Scope | None = self
        while scope is not None:
            names.update(scope.vars)
            scope = scope.parent
        return names

    def _suggest(self, name: str) -> str:
        close = difflib.get_close_matches(name, sorted(self.all_names()), n=3, cutoff=0.75)
        return f" (did you mean {', '.join(close)}?)" if close else ""
