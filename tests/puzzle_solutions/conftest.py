"""The reference solutions are puzzle answers, not test modules: never collect them."""

collect_ignore_glob = ["*.py"]
