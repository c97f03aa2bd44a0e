"""`python -m engine` is the same entry point as the `courtside` console script."""

import sys

from engine.cli import main

sys.exit(main())
