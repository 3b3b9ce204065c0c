"""``python -m rasplab``: the same as the ``rasplab`` command."""

import sys

from .cli.main import main

if __name__ == "__main__":
    sys.exit(main())
