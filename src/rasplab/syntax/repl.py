"""The interactive RASP shell: statements, examples, and analysis as you type.

Feed it lines (a statement may span several) and it prints, for every new
s-op, its values on the current example, as the original RASP REPL does.

>>> import io
>>> out = io.StringIO()
>>> repl = Repl(out)
>>> for line in ['set example "abca"', 'hist = selector_width(', 'select(tokens, tokens, ==));']:
...     _ = repl.feed(line)
>>> print(out.getvalue().strip())
s-op: hist
    Example: hist("abca") = [2, 1, 1, 2] (ints)
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from ..analysis import analyse
from ..errors import RaspError, RaspSyntaxError
from ..evaluate import evaluate
from ..lang.nodes import Selector, SOp
from .display import format_atom, format_sequence, header, selector_lines, verbose_lines
from .interpreter import Outcome
from .parser import is_complete, parse_tree
from .program import new_session

__all__ = ["Repl", "run_repl"]

_ANALYSE = re.compile(r"^\s*analy[sz]e\s+([A-Za-z_][A-Za-z_0-9]*)\s*;?\s*$")
_HELP = re.compile(r"^\s*help\s*;?\s*$")
HELP = """Statements end in ';' and may span lines. Commands (no ';'):
  set example "hello"  |  set example [1, 2, 3]   the input every new s-op is shown on
  show example            examples on|off           full seq display on|off
  load "file";            analyse NAME              exit"""


class Repl:
    """One REPL session: feed it lines, read what it prints from ``out``."""

    prompt_first = ">> "
    prompt_more = ".. "

    def __init__(self, out: TextIO | None = None, *, example: Any = "hello", limits=None):
        self.out = out if out is not None else sys.stdout
        self.interp, self.scope = new_session(asis=True, limits=limits)
        self.examples = {"s-op": example, "selector": example}
        self.show_examples = {"s-op": True, "selector": True}
        self.verbose = False
        self.buffer: list[str] = []
        self.done = False

    @property
    def prompt(self) -> str:
        return self.prompt_more if self.buffer else self.prompt_first

    def say(self, text: str = "") -> None:
        print(text, file=self.out)

    def reset(self) -> None:
        """Drop a half-typed statement."""
        self.buffer = []

    def run(self, lines: Iterable[str]) -> None:
        for line in lines:
            if not self.feed(line.rstrip("\n")):
                break

    def feed(self, line: str) -> bool:
        """Take one line; False once the session has ended (``exit``).

        Ctrl-C while a statement runs cancels that statement only: the
        session keeps every earlier definition.
        """
        try:
            return self._feed(line)
        except KeyboardInterrupt:
            self.reset()
            self.say("  !! interrupted; earlier definitions are kept")
            return True

    def _feed(self, line: str) -> bool:
        if not self.buffer and self._command(line):
            return not self.done
        self.buffer.append(line)
        source = "\n".join(self.buffer)
        try:
            complete = is_complete(source)
        except RaspSyntaxError as err:
            self.reset()
            self.say(f"  !! syntax error: {err}")
            return True
        if complete:
            self.reset()
            self.execute(source)
        return not self.done

    def _command(self, line: str) -> bool:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            return True
        found = _ANALYSE.match(line)
        if found:
            self.analyse(found.group(1))
            return True
        if _HELP.match(line):
            self.say(HELP)
            return True
        return False

    def execute(self, source: str) -> None:
        """Run complete source: each statement in turn, showing what it made."""
        try:
            items = parse_tree(source, limits=self.interp.limits).children
        except RaspSyntaxError as err:
            self.say(f"  !! syntax error: {err}")
            return
        except RaspError as err:  # too long or too deeply nested to parse
            self.say(f"  !! {type(err).__name__}: {err}")
            return
        for item in items:
            try:
                outcome = self.interp.run([item], self.scope)[0]
            except RaspError as err:
                self.say(f"  !! {type(err).__name__}: {err}")
                continue
            self.show(outcome)
            if self.done:
                return

    # ------------------------------------------------------------ output

    def show(self, outcome: Outcome) -> None:
        kind = outcome.kind
        if kind in ("expr", "assign", "def"):
            for name, value in outcome.bindings:
                self.show_value(name, value)
        elif kind == "load":
            for name, value in outcome.bindings:
                self.say(header(name, value))
        elif kind == "draw":
            self.say("  (draw is not available here; showing the values instead)")
            if outcome.value:
                self.show_value("draw", outcome.value[0])
        else:
            self._shell_command(outcome)

    def show_value(self, name: str, value: Any) -> None:
        self.say(header(name, value))
        if isinstance(value, SOp) and self.show_examples["s-op"]:
            self._show_sop(name, value, self.examples["s-op"])
        elif isinstance(value, Selector) and self.show_examples["selector"]:
            self._show_selector(value, self.examples["selector"])

    def _show_sop(self, name: str, sop: SOp, example: Any) -> None:
        shown = f"{name}({format_atom(example)})"
        try:
            tokens = self.interp.tokens.read(example)
            values = evaluate(sop, tokens)
        except RaspError as err:
            self.say(f"    Example: {shown} fails: {type(err).__name__}: {err}")
            return
        if self.verbose and len({repr(v) for v in values}) > 1:
            self.say(f"    Example: {shown} =")
            for line in verbose_lines(tokens, values):
                self.say(line)
        else:
            self.say(f"    Example: {shown} = {format_sequence(values)}")

    def _show_selector(self, sel: Selector, example: Any) -> None:
        try:
            tokens = self.interp.tokens.read(example)
            matrix = evaluate(sel, tokens)
        except RaspError as err:
            self.say(f"    Example: fails on {format_atom(example)}: {type(err).__name__}: {err}")
            return
        self.say("    Example:")
        for line in selector_lines(tokens, matrix):
            self.say(line)

    def _shell_command(self, outcome: Outcome) -> None:
        words = outcome.text.split()
        subsets = [w for w in words if w in ("s-op", "selector")] or ["s-op", "selector"]
        if outcome.kind == "set_example":
            self._set_example(outcome.value, subsets)
        elif outcome.kind == "show_example":
            for subset in subsets:
                self.say(f"\t{subset} example: {format_atom(self.examples[subset])}")
        elif outcome.kind == "toggle_examples":
            for subset in subsets:
                self.show_examples[subset] = words[-1] == "on"
        elif outcome.kind == "toggle_seq":
            self.verbose = words[-1] == "on"
        elif outcome.kind == "exit":
            self.done = True

    def _set_example(self, value: Any, subsets: list[str]) -> None:
        if not isinstance(value, str | list) or len(value) == 0:
            self.say(f"  !! an example is a non-empty string or list, got {format_atom(value)}")
            return
        for subset in subsets:
            self.examples[subset] = value

    def analyse(self, name: str) -> None:
        """``analyse NAME``: layers and heads of an s-op or selector."""
        if not self.scope.defines(name):
            self.say(f"  !! unknown name {name!r}")
            return
        value = self.scope.lookup(name)
        if not isinstance(value, SOp | Selector):
            self.say(f"  !! {name} is not an s-op or a selector, so it has no layers")
            return
        self.say(str(analyse(value)))


def _readline(history: Path | None):
    try:
        import readline
    except ImportError:  # not every platform has it; plain input() still works
        return None
    if history is not None and history.exists():
        with contextlib.suppress(OSError):
            readline.read_history_file(history)
    return readline


def run_repl(*, out: TextIO | None = None, history: Path | None = None) -> int:
    """The interactive loop (``rasplab repl``): readline history and line editing when present."""
    repl = Repl(out)
    history = history or Path.home() / ".rasplab_history"
    readline = _readline(history) if sys.stdin.isatty() else None
    repl.say(f"rasplab RASP shell; running example is {format_atom(repl.examples['s-op'])}.")
    repl.say("Type 'help' for commands, 'exit' to leave.")
    while True:
        try:
            line = input(repl.prompt)
        except EOFError:
            repl.say()
            break
        except KeyboardInterrupt:
            repl.reset()
            repl.say()
            continue
        if not repl.feed(line):
            break
    if readline is not None:
        with contextlib.suppress(OSError):
            readline.write_history_file(history)
    return 0
