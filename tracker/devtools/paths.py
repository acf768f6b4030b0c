"""Where the development material lives: the repository, and the real captures beside it
(`../shared/fixtures/real`, never copied into the repository) that the demo, the tests and the
benchmarks read. The one place that path is written.

`TRACKER_SHARED_FIXTURES` (a directory) overrides the location, so the suite can be run as on a
machine without `../shared` (`TRACKER_SHARED_FIXTURES=/nonexistent make test-fast`).
"""

from __future__ import annotations

import os
from pathlib import Path

SHARED_ENV = "TRACKER_SHARED_FIXTURES"
ROOT = Path(__file__).resolve().parents[2]  # the repository (a checkout, not an installed copy)
REAL: Path = (
    Path(os.environ[SHARED_ENV])
    if os.environ.get(SHARED_ENV)
    else ROOT.parent / "shared" / "fixtures" / "real"
)
