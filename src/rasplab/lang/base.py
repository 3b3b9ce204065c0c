"""The root of the IR: a node's identity, its declared fields, and immutability.

Each node class declares its fields as class annotations. The constructor
sets every declared field once; after that a node cannot be changed, and
``named``/``annotated`` (or a rewrite's ``_copy``) make a copy with a fresh id.

>>> from rasplab import tokens
>>> sorted((tokens + 1).field_names())
['desc', 'encoding', 'f', 'id', 'inner', 'name']
"""

from __future__ import annotations

import copy
import inspect
import itertools
from typing import Any, ClassVar, Self

from ..errors import DefinitionError
from .enums import Encoding

__all__ = ["Atom", "is_atom", "Node"]

Atom = int | float | str | bool
_ids = itertools.count(1)


def is_atom(value: Any) -> bool:
    """True for the values an s-op may hold at a position: int, float, str, bool."""
    return isinstance(value, int | float | str | bool)


_FIELDS: dict[type, frozenset[str]] = {}  # per class, computed on first use


def _declared_fields(cls: type) -> frozenset[str]:
    """Every instance annotation on ``cls`` and its bases (``ClassVar`` ones are constants)."""
    known = _FIELDS.get(cls)
    if known is not None:
        return known
    names: set[str] = set()
    for klass in cls.__mro__:
        for name, annotation in inspect.get_annotations(klass).items():
            text = annotation if isinstance(annotation, str) else repr(annotation)
            if not text.startswith(("ClassVar", "typing.ClassVar")):
                names.add(name)
    _FIELDS[cls] = frozenset(names)
    return _FIELDS[cls]


class Node:
    """A vertex of the program DAG. Immutable once constructed.

    Every field is declared as a class annotation. The constructor sets each
    declared field exactly once; after that nothing can be set, replaced or
    deleted (``named`` and ``annotated`` make copies).
    """

    kind: ClassVar[str] = "node"

    id: int  # unique in this process; copies get a fresh one
    name: str | None  # the user's name, if any
    encoding: Encoding | None  # how a compiled model stores the values (s-ops only)

    def __init__(self, *, name: str | None = None, encoding: Encoding | None = None) -> None:
        if name is not None and (not isinstance(name, str) or not name):
            raise DefinitionError(f"a node name must be a non-empty string, got {name!r}")
        self.id = next(_ids)
        self.name = name
        self.encoding = encoding

    @classmethod
    def field_names(cls) -> frozenset[str]:
        """The fields a node of this class carries: its annotations, minus class constants."""
        return _declared_fields(cls)

    def __setattr__(self, key: str, value: Any) -> None:
        # Write-once: a declared field may be set while it is still unset (construction).
        if key in self.field_names() and key not in self.__dict__:
            object.__setattr__(self, key, value)
            return
        what = "cannot change its fields" if key in self.field_names() else f"has no field {key!r}"
        raise AttributeError(
            f"a {type(self).__name__} node {what}; nodes are immutable, use .named() or a DSL call"
        )

    def __delattr__(self, key: str) -> None:
        raise AttributeError(f"{type(self).__name__} nodes are immutable")

    __hash__ = object.__hash__  # identity: operators like == build nodes instead

    @property
    def children(self) -> tuple[Node, ...]:
        return ()

    @property
    def label(self) -> str:
        """The user's name if given, else ``kind_id`` (unique in this process)."""
        return self.name if self.name is not None else f"{self.kind}_{self.id}"

    def named(self, name: str) -> Self:
        """A copy of this node carrying a user-facing name."""
        if not isinstance(name, str) or not name:
            raise DefinitionError(f"a node name must be a non-empty string, got {name!r}")
        return self._copy(name=name)

    def annotated(self, *, encoding: Encoding | str) -> Self:
        return self._copy(encoding=Encoding(encoding))

    def _copy(self, **changes: Any) -> Self:
        """A copy with a fresh id and some fields replaced (rewrites use this too)."""
        unknown = set(changes) - (self.field_names() - {"id"})
        if unknown:
            raise DefinitionError(
                f"cannot set {sorted(unknown)} on a copy of {type(self).__name__}"
            )
        clone = copy.copy(self)
        for key, value in {**changes, "id": next(_ids)}.items():
            object.__setattr__(clone, key, value)  # the one write past construction
        return clone

    def describe(self) -> str:
        """The operation, with children by label (one line, no name)."""
        return self.kind

    def _repr_html_(self) -> str:
        from ..viz.jupyter import node_html

        return node_html(self)

    def __repr__(self) -> str:
        return f"<{self.label} = {self.describe()}>"
