"""A fault-injecting HTTP proxy for a local S3 endpoint (moto): what S3 does on a bad day.

    with FaultProxy(upstream="http://127.0.0.1:5000", slowdown=0.1, error=0.05, drop=0.05,
                    seed=7) as proxy:
        ...  # point AWS_ENDPOINT_URL (boto3 and S3A) at proxy.endpoint_url

Each request, by a seeded draw: ``503 SlowDown`` (S3's throttling answer), ``500
InternalError``, a dropped connection (closed without an answer), or forwarded unchanged.
Faults are injected before the request reaches the upstream, so a failed request changed
nothing there and a client's retry is always safe; what is tested is that the client retries.
Counters (``requests``, ``faults``) say what was done, so a test can check that faults happened.
"""

from __future__ import annotations

import contextlib
import http.client
import random
import socket
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from tooling.local.background_server import BackgroundHttpServer

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-authorization", "proxy-authenticate"}  # fmt: skip
ERROR_BODY = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    "<Error><Code>{code}</Code><Message>{message}</Message><RequestId>fault-{n}</RequestId>"
    "</Error>"
)
FAULTS = {
    "slowdown": (503, "SlowDown", "Please reduce your request rate."),
    "error": (500, "InternalError", "We encountered an internal error. Please try again."),
}


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """Clients drop connections here on purpose (and after a dropped one): no tracebacks."""


class FaultProxy(BackgroundHttpServer):
    server_class = _QuietServer

    def __init__(
        self,
        upstream: str,
        slowdown: float = 0.0,
        error: float = 0.0,
        drop: float = 0.0,
        seed: int = 0,
        host: str = "127.0.0.1",
    ) -> None:
        if slowdown + error + drop > 1:
            raise ValueError("the fault rates add up to more than 1")
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"the upstream must be an http:// address, got {upstream!r}")
        self.upstream = (parts.hostname, parts.port or 80)
        self.rates = (("slowdown", slowdown), ("error", error), ("drop", drop))
        self.requests = 0
        self.faults: Counter[str] = Counter()
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        super().__init__(host)

    @property
    def endpoint_url(self) -> str:
        return self.base_url

    def draw(self) -> str | None:
        """The fault for the next request (None: forward it)."""
        with self._lock:
            self.requests += 1
            value = self._random.random()
            for name, rate in self.rates:
                if value < rate:
                    self.faults[name] += 1
                    return name
                value -= rate
            return None

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)


def _handler_for(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as S3 clients expect

        def _relay(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            fault = proxy.draw()
            if fault == "drop":
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault is not None:
                status, code, message = FAULTS[fault]
                body = ERROR_BODY.format(code=code, message=message, n=proxy.requests).encode()
                self._answer(status, {"Content-Type": "application/xml"}, body,
                             head=self.command == "HEAD")  # fmt: skip
                return
            upstream = http.client.HTTPConnection(*proxy.upstream, timeout=60)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                headers.pop("Expect", None)  # the proxy answered 100-continue already
                upstream.request(self.command, self.path, body=body or None, headers=headers)
                response = upstream.getresponse()
                data = response.read()
                kept = {k: v for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP}
                self._answer(response.status, kept, data, head=self.command == "HEAD")
            finally:
                upstream.close()

        def _answer(
            self, status: int, headers: dict[str, str], body: bytes, head: bool = False
        ) -> None:
            self.send_response_only(status)
            for key, value in headers.items():
                if key.lower() != "content-length":
                    self.send_header(key, value)
            length = {k.lower(): v for k, v in headers.items()}.get("content-length")
            # a HEAD answer has no body, but says how long the GET's would be
            self.send_header("Content-Length", str(length if head and length else len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _relay

        def log_message(self, *args: object) -> None:
            pass

    return Handler
