"""The TPNW replay to an email subscriber over the real captures: TPNW's MTDSG XML of Jan 2018 (3
parties), then its status page of Feb 2026 (74).

The tests of tests/alerts/test_email_replay.py, which run on the project's own pages built to the
same figures; here the `tpnw` fixture gives the real files. Skips, with the reason, when
shared/fixtures/real is absent.
"""

from __future__ import annotations

import pytest
from alerts import test_email_replay as replay

# slow: replays the real TPNW pages through real SMTP (2-3 s a test); the fast loop (make test-fast) leaves it to make test
pytestmark = [pytest.mark.db, pytest.mark.slow]


mailbox = replay.mailbox
env = replay.env
client = replay.client
test_nothing_but_the_opt_in_email_before_confirmation = (
    replay.test_nothing_but_the_opt_in_email_before_confirmation
)
test_the_confirmed_subscriber_gets_the_alert_once_and_leaves_in_one_post = (
    replay.test_the_confirmed_subscriber_gets_the_alert_once_and_leaves_in_one_post
)
