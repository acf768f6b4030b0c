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


def test_keeps_a_connection_open_between_requests_and_cuts_it_when_stopped(tmp_path):
    """Like a real site the mirror answers several requests on one connection (HTTP/1.1); a
    stopped mirror answers none, not even on a connection opened before it stopped (an
    outage test must see the fetch fail, not a kept-alive thread still serving)."""
    import http.client

    mirror = Mirror(tmp_path)
    mirror.add("/a", b"<html>a</html>")
    mirror.save()
    server = serve(Mirror(tmp_path))
    running = server.__enter__()
    connection = http.client.HTTPConnection("127.0.0.1", running.httpd.server_address[1], timeout=5)
    try:
        for _ in range(3):
            connection.request("GET", "/a")
            answer = connection.getresponse()
            assert (answer.status, answer.read()) == (200, b"<html>a</html>")
        assert running.httpd.accepted == 1  # the three on one connection
    finally:
        server.__exit__(None, None, None)
    with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
        connection.request("GET", "/a")
        connection.getresponse()
    connection.close()
