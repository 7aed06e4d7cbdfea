"""Endpoints that fail the way networks and services do, for the fault suite.

    with SilentEndpoint() as silent:          # accepts connections, never answers
        ...  # AWS_ENDPOINT_URL=silent.endpoint_url
    url = refused_endpoint()                  # a port where nothing listens: connection refused
    with ScriptedEndpoint([EXPIRED_TOKEN, (200, {})]) as scripted:
        ...  # answers each request with the next (status, JSON body); the last one repeats
    with OverridingProxy(moto_url, {"CreateLogStream": THROTTLED}) as proxy:
        ...  # moto behind it, except the operations it answers itself

A private subnet without a VPC endpoint, a firewall that drops packets or a stuck proxy look
like the silent endpoint; a stopped service like the refused port; IAM, an expired session or a
broken proxy like the scripted one. Each counts what it received (``connections``,
``requests``), so a test can tell that the client gave up on time and did not come back.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
import urllib.parse
from collections import Counter
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler
from typing import Any, Self

from tooling.local.background_server import BackgroundHttpServer


class SilentEndpoint:
    """A TCP listener that accepts every connection and never sends a byte."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._host = host
        self._listener: socket.socket | None = None
        self._held: list[socket.socket] = []
        self._lock = threading.Lock()
        self.connections = 0

    @property
    def endpoint_url(self) -> str:
        if self._listener is None:
            raise RuntimeError("the endpoint is not running")
        host, port = self._listener.getsockname()[:2]
        return f"http://{host}:{port}"

    def start(self) -> Self:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self._host, 0))
        listener.listen(128)
        self._listener = listener
        threading.Thread(target=self._accept, name="silent-endpoint", daemon=True).start()
        return self

    def _accept(self) -> None:
        listener = self._listener
        while listener is not None:
            try:
                connection, _ = listener.accept()
            except OSError:  # closed by stop()
                return
            with self._lock:
                self.connections += 1
                self._held.append(connection)  # kept open and unread: the client waits

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            for connection in self._held:
                with contextlib.suppress(OSError):
                    connection.close()
            self._held.clear()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def refused_endpoint(host: str = "127.0.0.1") -> str:
    """The URL of a port that was free a moment ago: connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port = probe.getsockname()[1]
    return f"http://{host}:{port}"


def aws_error(code: str, message: str = "") -> dict[str, str]:
    """The JSON body of an AWS JSON-protocol error (CloudWatch Logs, Secrets Manager...)."""
    return {"__type": code, "message": message or code}


ACCESS_DENIED = (400, aws_error("AccessDeniedException", "User is not authorized"))
EXPIRED_TOKEN = (400, aws_error("ExpiredTokenException", "The security token has expired"))
THROTTLED = (400, aws_error("ThrottlingException", "Rate exceeded"))


class ScriptedEndpoint(BackgroundHttpServer):
    """Answers request n with ``responses[n]`` (status, JSON body); the last answer repeats.

    Every request's ``X-Amz-Target`` (the AWS operation) is kept in ``targets``."""

    def __init__(
        self, responses: Sequence[tuple[int, Mapping[str, Any]]], host: str = "127.0.0.1"
    ) -> None:
        if not responses:
            raise ValueError("at least one response is needed")
        super().__init__(host)
        self._responses = list(responses)
        self._lock = threading.Lock()
        self.targets: list[str] = []

    @property
    def endpoint_url(self) -> str:
        return self.base_url

    @property
    def requests(self) -> int:
        with self._lock:
            return len(self.targets)

    def next_response(self, target: str) -> tuple[int, Mapping[str, Any]]:
        with self._lock:
            index = min(len(self.targets), len(self._responses) - 1)
            self.targets.append(target)
            return self._responses[index]

    def handler(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                status, body = endpoint.next_response(self.headers.get("X-Amz-Target", ""))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("x-amzn-RequestId", f"scripted-{endpoint.requests}")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


HOP_HEADERS = ("content-length", "transfer-encoding", "connection")


class OverridingProxy(BackgroundHttpServer):
    """Forwards AWS JSON-protocol requests to `upstream` (the moto server), except the
    operations named in `overrides` (e.g. ``{"CreateLogStream": THROTTLED}``), which get the
    scripted answer and never reach the upstream. ``answered`` counts the overridden calls."""

    def __init__(
        self,
        upstream: str,
        overrides: Mapping[str, tuple[int, Mapping[str, Any]]],
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__(host)
        parts = urllib.parse.urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._overrides = dict(overrides)
        self._lock = threading.Lock()
        self.answered: Counter[str] = Counter()
        self.forwarded: Counter[str] = Counter()

    @property
    def endpoint_url(self) -> str:
        return self.base_url

    def route(self, target: str) -> tuple[int, Mapping[str, Any]] | None:
        operation = target.rsplit(".", 1)[-1]
        with self._lock:
            answer = self._overrides.get(operation)
            (self.answered if answer is not None else self.forwarded)[operation] += 1
            return answer

    def handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                answer = proxy.route(self.headers.get("X-Amz-Target", ""))
                if answer is not None:
                    status, payload = answer
                    data = json.dumps(payload).encode()
                    headers = {"Content-Type": "application/x-amz-json-1.1"}
                else:
                    connection = http.client.HTTPConnection(*proxy._upstream, timeout=30)
                    try:
                        connection.request("POST", self.path, body, dict(self.headers.items()))
                        response = connection.getresponse()
                        status, data = response.status, response.read()
                        headers = {
                            k: v for k, v in response.getheaders() if k.lower() not in HOP_HEADERS
                        }
                    finally:
                        connection.close()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        return Handler
