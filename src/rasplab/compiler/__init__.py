"""Compile RASP programs into exact transformer weights.

Stages, each taking and returning plain data:

1. :mod:`~rasplab.compiler.value_sets` - the values every s-op can hold, per position;
2. :mod:`~rasplab.compiler.encodings` - whether each aggregate moves or averages;
3. :mod:`~rasplab.compiler.lower` - rewrites that keep values (any-heads, split counts,
   joint selectors);
4. :mod:`~rasplab.compiler.layout` - what is stored, who writes it, in which layer
   (with :mod:`~rasplab.compiler.mlp` building exact MLPs);
5. :mod:`~rasplab.compiler.blocks` and :mod:`~rasplab.compiler.assemble` - weights.

:func:`compile_program` runs them; :func:`verify` checks a model against the evaluator.
"""

from .driver import compile_program
from .verify import Verification, verify

__all__ = ["compile_program", "verify", "Verification"]
