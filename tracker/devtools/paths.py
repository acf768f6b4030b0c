"""Where the development material lives: the repository, and the real captures beside it
(`../shared/fixtures/real`, never copied into the repository) that the demo, the tests and the
benchmarks read. The one place that path is written."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository (a checkout, not an installed copy)
REAL = ROOT.parent / "shared" / "fixtures" / "real"
