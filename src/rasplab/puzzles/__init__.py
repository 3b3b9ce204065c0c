"""Transformer puzzles: exercises checked for real.

Each puzzle states a task on token sequences, a plain-Python spec, a budget
of layers and heads per layer, and the operations allowed. The checker runs
a solution against the spec on fixed, exhaustive and generated inputs
(hypothesis when installed), measures its layers and heads with the paper's
analysis, walks its DAG for forbidden operations, and on failure shows the
smallest counterexample with an execution view.

>>> from rasplab import tokens, select, selector_width
>>> from rasplab.puzzles import PUZZLES, check
>>> list(PUZZLES)[:4]
['index', 'shift', 'length', 'reverse']
>>> check("histogram", selector_width(select(tokens, tokens, "=="))).solved
True
"""

from .catalog import PUZZLES, PuzzleNotFound, get
from .checker import CheckResult, Counterexample, check, checked_inputs
from .domains import Domain
from .puzzle import Puzzle
from .rules import Rules
from .solutions import Solution, SolutionError, load_file

__all__ = [
    "PUZZLES",
    "Puzzle",
    "PuzzleNotFound",
    "get",
    "check",
    "checked_inputs",
    "CheckResult",
    "Counterexample",
    "Domain",
    "Rules",
    "Solution",
    "SolutionError",
    "load_file",
]
