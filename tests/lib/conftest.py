"""Fixtures for the library's tests: a real local HTTP server standing in for a Slack webhook."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Webhook:
    """Answers with the queued (status, headers) pairs, then 200; records every body."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.answers: list[tuple[int, dict[str, str]]] = []
        webhook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                webhook.bodies.append(json.loads(self.rfile.read(length)))
                status, headers = webhook.answers.pop(0) if webhook.answers else (200, {})
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"rate_limited")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/services/T000/B000/secretpart"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook():
    server = Webhook()
    yield server
    server.close()
