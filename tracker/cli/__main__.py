"""`python -m tracker.cli`."""

import sys

from tracker.cli.commands import main

sys.exit(main())
