"""Programs learned from examples: a transformer made of named categorical variables,
trained in torch, read out as a RASP program and checked against the evaluator.

torch is needed only to train (``pip install 'rasplab[learn]'``); the discrete
program, its read-out and simplification are plain numpy.
"""

from .discrete import Factor, Head, Layer, Mlp, Program, Variable, forward
from .readout import python_source, rasp_source, read_out, to_sop
from .verify import equivalence, random_program, run_discrete

__all__ = [
    "Factor",
    "Head",
    "Layer",
    "Mlp",
    "Program",
    "Variable",
    "forward",
    "python_source",
    "rasp_source",
    "read_out",
    "to_sop",
    "equivalence",
    "random_program",
    "run_discrete",
]
