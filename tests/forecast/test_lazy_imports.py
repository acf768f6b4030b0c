"""numpy and scipy load only when a forecast is made: every crawl's child process imports the
services (ingest, rule events), and those two libraries cost it seconds at start-up."""

from __future__ import annotations

import subprocess
import sys


def _loaded(code: str) -> set[str]:
    probe = (
        code + "\nimport sys\nprint(' '.join(m for m in ('numpy', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_importing_the_ingest_and_the_pipeline_loads_neither():
    assert _loaded("import tracker.services.ingest, spiders.pipelines") == set()


def test_making_a_forecast_loads_them():
    code = (
        "from tracker.forecast.model import _Conditional\n"
        "_Conditional([1.0, 2.0, 3.0], [4.0], 0.5).quantile(0.5)"
    )
    assert _loaded(code) == {"numpy", "scipy"}
