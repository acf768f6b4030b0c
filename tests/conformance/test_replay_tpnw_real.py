"""The TPNW replay through the command line (snapshots, one consent event each) over the real
captures: TPNW's MTDSG XML of Jan 2018 (3 parties), then its status page of Feb 2026 (74).

The test of tests/e2e/test_replay_tpnw.py, which runs on the project's own pages built to the same
figures; here the `tpnw` fixture gives the real files. Skips, with the reason, when
shared/fixtures/real is absent.
"""

from __future__ import annotations

import pytest
from e2e import test_replay_tpnw as replay

pytestmark = [pytest.mark.db, pytest.mark.slow]


test_tpnw_2018_then_2026 = replay.test_tpnw_2018_then_2026
