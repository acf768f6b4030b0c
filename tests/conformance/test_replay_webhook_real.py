"""The TPNW replay to a webhook subscriber over the real captures: TPNW's MTDSG XML of Jan 2018 (3
parties), then its status page of Feb 2026 (74).

The test of tests/alerts/test_replay_alerts.py, which runs on the project's own pages built to the
same figures; here the `tpnw` fixture gives the real files. Skips, with the reason, when
shared/fixtures/real is absent.
"""

from __future__ import annotations

import pytest
from alerts import test_replay_alerts as replay

pytestmark = pytest.mark.db


env = replay.env
receiver = replay.receiver
test_threshold_crossed_arrives_once_signed = replay.test_threshold_crossed_arrives_once_signed
