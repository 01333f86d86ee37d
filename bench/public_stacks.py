"""`python -m bench.public_stacks`: issue 16's "Done when", measured on the twenty public
stacks in bench/public_stacks/ (verbatim, and --as-author). The harness is the package
bench/publicstacks/ (its docstring says what is measured and how); this module keeps the
command's name (the data folder bench/public_stacks/ beside it holds no Python)."""

from __future__ import annotations

import sys

from bench.publicstacks.cli import main

if __name__ == "__main__":
    sys.exit(main())
