"""`python -m core ...` — the headless CLI (also what `torchrun -m core` runs)."""

import sys

from core.cli import main

sys.exit(main())
