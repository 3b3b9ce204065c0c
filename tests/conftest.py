"""Shared pytest settings for the test suite."""

# Programs under fixtures/ are written against other RASP systems' import lines and
# are run by the tests that read them (with the import line changed), not collected.
collect_ignore_glob = ["fixtures/*"]
