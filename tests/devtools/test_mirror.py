"""The local mirror answers like a site: recorded bytes, 404 elsewhere, 304 when unchanged."""

import urllib.error
import urllib.request

import pytest

from tracker.devtools.mirror import Mirror, normalize_target, serve


def fetch(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read(), dict(err.headers)


def test_query_order_and_key_case_do_not_matter():
    assert normalize_target("/P.aspx?b=2&A=1") == normalize_target("/P.aspx?a=1&b=2")


def test_serves_recorded_bytes_and_honours_etags(tmp_path):
    mirror = Mirror(tmp_path)
    mirror.add("/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=XXVI-9", b"<html>tpnw</html>")
    mirror.save()
    with serve(Mirror(tmp_path)) as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        status, body, headers = fetch(
            server.base_url + "/Pages/ViewDetails.aspx?mtdsg_no=XXVI-9&src=TREATY"
        )
        assert (status, body) == (200, b"<html>tpnw</html>")
        status, body, _ = fetch(
            server.base_url + "/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=XXVI-9",
            {"If-None-Match": headers["ETag"]},
        )
        assert (status, body) == (304, b"")
        assert fetch(server.base_url + "/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=IV-4")[0] == 404
        assert fetch(server.base_url + "/robots.txt")[0] == 200
    assert len(server.requests) == 4


@pytest.mark.parametrize("target", ["/", "/Pages/unknown.aspx"])
def test_unknown_targets_are_404(tmp_path, target):
    with serve(Mirror(tmp_path)) as server:
        assert fetch(server.base_url + target)[0] == 404
