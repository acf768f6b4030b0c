"""`tracker demo` on the real UNTC status pages of Feb 2026 (its default when ../shared is beside
the clone): the 30 pages served, crawled and every one accepted. tests/e2e/test_demo.py runs the
demo on the project's own fixtures. Skips, with the reason, when the real pages are absent.
"""

from __future__ import annotations

import pytest
from e2e import test_demo
from support.real import REAL

from tracker.sources.untc.mirror import RECORDED_FOLDER

demo = test_demo.demo  # the fixture: the demo processes, stopped at the end


@pytest.mark.slow
@pytest.mark.skipif(
    not (REAL / RECORDED_FOLDER).is_dir(), reason=f"{REAL / RECORDED_FOLDER} is absent"
)
def test_demo_on_the_real_recorded_pages(demo, tmp_path):
    out = test_demo.run_and_check(
        demo, tmp_path, [], {"treaties": 30, "treaty": "XXVI-9", "parties": 74}
    )
    assert "untc: serving 30 pages: the real UNTC status pages" in out
    # 30 status pages, the catalogue index and 2 chapter pages: every one accepted.
    line = "crawl untc: 33 pages, 33 accepted, 0 unchanged, 0 quarantined, 0 failed"
    assert line in out and "(30 status pages;" in out, out
