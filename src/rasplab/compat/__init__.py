"""Compatibility layers: write programs against another project's API.

* ``rasplab.compat.tracr``: tracr's ``rasp`` classes (``import ... as rasp``).
* ``rasplab.compat.raspy``: raspy's names and semantics (``from ... import *``).

Each builds ordinary rasplab nodes, so every back end runs what they build.
"""
