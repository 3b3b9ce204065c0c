"""Compatibility layers: write programs against another project's API."""
