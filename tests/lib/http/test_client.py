"""lib.http against a local HTTP server: retries, Retry-After, rate limit, paging, fan-out."""

from __future__ import annotations

import json
import logging
import time

import pytest

from lib.http import (
    ApiKeyAuth,
    HttpClient,
    HttpError,
    RateLimiter,
    paginate_cursor,
    paginate_link_header,
    paginate_offset,
    paginate_pages,
)
from tooling.local.background_server import BackgroundHttpServer


def ids(responses, field=None):
    out = []
    for response in responses:
        body = response.json()
        out += [item["id"] for item in (body[field] if field else body)]
    return out


def test_all_three_pagination_styles_return_every_item_once(api):
    client = HttpClient(api.base_url)
    expected = [account["id"] for account in api.accounts]
    assert ids(paginate_pages(client, "/v1/items", page_size=10)) == expected
    assert ids(paginate_offset(client, "/v1/items", limit=30)) == expected
    assert ids(paginate_cursor(client, "/v2/accounts", params={"limit": 40}), "data") == expected
    assert ids(paginate_link_header(client, "/v1/linked")) == expected
    assert api.requests["/v1/linked?page=5"] == 1  # 95 items, 20 a page


def test_retries_429_500_and_dropped_connections(api):
    api.fail_first = 3  # each path: 429, 500 and a dropped connection, in some order
    client = HttpClient(api.base_url, backoff_factor=0.01)
    body = client.get_json("/v3.1/alpha/DEU")
    assert body[0]["cca3"] == "DEU"
    assert api.requests["/v3.1/alpha/DEU"] == 4
    assert sum(api.faults_sent.values()) == 3


@pytest.mark.parametrize("cap", [7, 10, 1000])
def test_a_server_that_caps_page_sizes_still_gives_every_item(api, cap):
    """Asked for 30 a page, the server gives at most `cap`: a short page is not the end."""
    api.max_page_size = cap
    client = HttpClient(api.base_url)
    expected = [account["id"] for account in api.accounts]
    assert ids(paginate_pages(client, "/v1/items", page_size=30)) == expected
    assert ids(paginate_offset(client, "/v1/items", limit=30)) == expected


def test_retry_after_is_honoured(api):
    api.fail_first = 1
    api.retry_after = "1"
    client = HttpClient(api.base_url, backoff_factor=0.0)
    started = time.monotonic()
    for path in ("/v3.1/alpha/FRA", "/v3.1/alpha/AUT", "/v3.1/alpha/CHE"):
        client.get(path)
    honoured = [p for p in api.requests if api.requests[p] == 2]
    assert len(honoured) == 3
    faults = api.faults_sent
    # every 429 made the client wait at least the second it was told to
    assert time.monotonic() - started >= faults["429"] * 1.0


def test_retry_after_is_capped_by_the_backoff_limit(api):
    """urllib3 would wait up to 6 hours for a Retry-After; the client waits at most backoff_max."""
    api.fail_first = 1
    api.retry_after = "3600"
    client = HttpClient(api.base_url, backoff_factor=0.0, backoff_max=0.5)
    started = time.monotonic()
    for path in ("/v3.1/alpha/FRA", "/v3.1/alpha/AUT", "/v3.1/alpha/CHE"):
        client.get(path)
    assert time.monotonic() - started < 10
    assert all(api.requests[path] == 2 for path in ("/v3.1/alpha/FRA", "/v3.1/alpha/AUT"))


def test_gives_up_after_max_retries_with_the_status(api):
    api.fail_first = 100
    client = HttpClient(api.base_url, max_retries=2, backoff_factor=0.0)
    with pytest.raises(HttpError) as error:
        client.get("/v3.1/alpha/DEU")
    assert api.requests["/v3.1/alpha/DEU"] == 3
    assert "alpha/DEU" in error.value.url


def test_client_errors_are_not_retried(api):
    client = HttpClient(api.base_url)
    with pytest.raises(HttpError) as error:
        client.get("/v3.1/alpha/XXX")
    assert error.value.status == 404
    assert api.requests["/v3.1/alpha/XXX"] == 1
    with pytest.raises(HttpError, match="400"):
        client.get("/v3.1/all")  # no fields: the live API's 400


def test_fan_out_keeps_request_order_and_reports_every_failure(api):
    client = HttpClient(api.base_url)
    codes = ["DEU", "NOPE", "FRA", "XXX", "AUT"]
    result = client.fetch_all([f"/v3.1/alpha/{c}" for c in codes], max_workers=4)
    assert not result.ok
    assert [r.json()[0]["cca3"] if r else None for r in result.responses] == [
        "DEU", None, "FRA", None, "AUT"
    ]  # fmt: skip
    assert [(f.index, f.status) for f in result.failures] == [(1, 404), (3, 404)]
    assert all("/v3.1/alpha/" in f.url for f in result.failures)


def test_fan_out_is_parallel(api):
    api.latency = 0.1
    client = HttpClient(api.base_url)
    paths = [f"/v3.1/alpha/{code}" for code in ("DEU", "FRA", "AUT", "CHE")] * 4
    started = time.monotonic()
    assert client.fetch_all(paths, max_workers=8).ok
    assert time.monotonic() - started < 16 * 0.1 / 2  # well under the sequential 1.6 s


def test_rate_limiter_on_a_fake_clock():
    now = [0.0]
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(rate=4, burst=2, clock=lambda: now[0], sleep=sleep)
    for _ in range(6):
        limiter.acquire()
    assert now[0] == pytest.approx(1.0)  # 2 at once, then 4 more at 4/s
    assert all(wait == pytest.approx(0.25) for wait in waits)


def test_rate_limit_holds_across_threads(api):
    client = HttpClient(api.base_url, rate_per_second=20)
    started = time.monotonic()
    assert client.fetch_all(["/v3.1/alpha/DEU"] * 11, max_workers=8).ok
    assert time.monotonic() - started >= 0.45  # 11 requests at 20/s, burst 1


def test_api_key_is_sent_and_never_logged(api, caplog):
    api.require_api_key = "k-supersecret-123"
    caplog.set_level(logging.DEBUG)
    good = HttpClient(api.base_url, auth=ApiKeyAuth("X-Api-Key", "k-supersecret-123"))
    assert good.get_json("/v3.1/alpha/DEU")
    bad = HttpClient(api.base_url, auth=ApiKeyAuth("X-Api-Key", "wrong-key-456"))
    with pytest.raises(HttpError) as error:
        bad.get("/v3.1/alpha/DEU")
    assert error.value.status == 401
    result = bad.fetch_all(["/v3.1/alpha/DEU"])
    assert "wrong-key-456" not in caplog.text + str(error.value) + str(result.failures)
    assert "k-supersecret-123" not in caplog.text


class InconsistentPagesApi(BackgroundHttpServer):
    """Counts pages by the size asked (250) but serves at most 100: items are skipped, and
    the body's total says so."""

    def handler(self):
        from http.server import BaseHTTPRequestHandler
        from urllib.parse import parse_qs, urlparse

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                query = parse_qs(urlparse(self.path).query)
                size = int(query["per_page"][0])
                start = (int(query["page"][0]) - 1) * size
                items = list(range(1000))[start : start + min(size, 100)]
                data = json.dumps({"total": 1000, "items": items}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        return Handler


def test_an_empty_page_before_the_total_is_an_error_not_the_end():
    with InconsistentPagesApi() as api:
        client = HttpClient(api.base_url)
        pages = paginate_pages(client, "/v1/counted", page_size=250, items_field="items",
                               total_field="total")  # fmt: skip
        with pytest.raises(HttpError, match="empty page after 400 of 1000"):
            list(pages)
