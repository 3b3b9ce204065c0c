"""Compile RASP programs into exact transformer weights.

Stages, each taking and returning plain data:

1. :mod:`~rasplab.compiler.value_sets` - the values every s-op can hold, per position;
2. :mod:`~rasplab.compiler.encodings` - how each aggregate combines its values (the
   aggregate policy: move one value or average);
3. :mod:`~rasplab.compiler.lower` - rewrites that keep values (any-heads, split counts,
   joint selectors);
4. :mod:`~rasplab.compiler.layout` - the plan: what is stored, who writes it, in which
   layer (its records in :mod:`~rasplab.compiler.plans`; :mod:`~rasplab.compiler.mlp`
   builds the exact MLPs);
5. :mod:`~rasplab.compiler.blocks` and :mod:`~rasplab.compiler.assemble` - weights;
6. :mod:`~rasplab.compiler.verify` - the model checked against the evaluator.

:func:`compile_program` runs them all; :func:`verify` runs stage 6 on any model.
"""

from .driver import compile_program
from .verify import Verification, verify

__all__ = ["compile_program", "verify", "Verification"]
