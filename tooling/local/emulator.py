"""An embedded moto server: the local stand-in for S3 (and the other AWS services moto serves).

    with S3Emulator() as emulator:          # port 0: a free port is chosen
        print(emulator.endpoint_url)        # http://127.0.0.1:PORT
        emulator.reset()                    # forget every bucket, object, log group ...

`environment()` gives the variables that point boto3 (AWS_ENDPOINT_URL) and dummy credentials
at it; :class:`lib.spark.SparkFactory` reads the same AWS_ENDPOINT_URL for S3A, so every tool,
job and test talks to one place. moto is a development dependency: import this module only in
local tooling and tests.
"""

from __future__ import annotations

import logging
import os
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager


class S3Emulator:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._server = None

    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    def start(self) -> S3Emulator:
        from moto.server import ThreadedMotoServer

        # werkzeug logs every request at INFO: far too much for a job's console
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        server.start()
        self._server = server
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def reset(self) -> None:
        """Drop all state in the emulator (moto's reset API)."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()

    def environment(self, region: str = "eu-west-1") -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
        }

    def __enter__(self) -> S3Emulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@contextmanager
def patched_environ(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of a block, then restore them."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
