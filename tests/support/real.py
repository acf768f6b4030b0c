"""Where the real depositary captures are: `../shared/fixtures/real` beside the repository.

Tests find them through here (the path itself is tracker.devtools.paths). `TRACKER_SHARED_FIXTURES` (a directory) overrides the location,
so the suite can be run as on a machine without `../shared`
(`TRACKER_SHARED_FIXTURES=/nonexistent pytest ...`). Only tests/conformance reads them; every
other test runs on the project's own fixtures (tests/fixtures/untc, tests/support).
"""

from __future__ import annotations

from tracker.devtools.paths import REAL, SHARED_ENV

__all__ = ["ABSENT", "REAL", "SHARED_ENV", "TPNW_HTML", "TPNW_XML"]

ABSENT = f"real fixtures absent: {REAL} (the shared/ folder is not beside the repository)"

# TPNW (XXVI-9) as MTDSG XML of Jan 2018 (3 parties) and its status page of Feb 2026 (74).
TPNW_XML = REAL / "untc_mtdsg_xml_2018-01-15" / "XXVI-9.en.xml"
TPNW_HTML = REAL / "untc_viewdetails_html_2026-02-03" / "XXVI-9__tpnw.html"
