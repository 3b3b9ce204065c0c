"""The ``rasplab`` command line: run, analyse, list and demo RASP programs.

Each subcommand lives in its own module and exposes ``add_parser`` (register
its arguments) and ``command`` (do the work, return an exit code); program
names are resolved by :mod:`rasplab.programs`. The entry point is
``rasplab.cli.main.main(argv)``, which returns the exit code.
"""

__all__: list[str] = []
