"""The dashboard's TPNW and CTBT pages over the real captures (TPNW's MTDSG XML of Jan 2018 and
page of Feb 2026, the CTBT's page of Feb 2026): the checks of tests/web/test_dashboard.py, which
runs them on the project's own pages. Skips, with the reason, when shared/fixtures/real is absent.
"""

from __future__ import annotations

import pytest
from support.real import ABSENT, REAL
from web.test_dashboard import check_tpnw_and_ctbt, seed_real

# slow: renders the dashboard over the real pages; the fast loop (make test-fast) leaves it to make test
pytestmark = [pytest.mark.db, pytest.mark.slow]


@pytest.mark.skipif(not REAL.exists(), reason=ABSENT)
def test_real_pages(session_factory, settings):
    check_tpnw_and_ctbt(session_factory, settings, seed_real)
