"""An embedded moto server: the local stand-in for S3 (and the other AWS services moto serves).

    with S3Emulator() as emulator:          # port 0: a free port is chosen
        print(emulator.endpoint_url)        # http://127.0.0.1:PORT
        emulator.reset()                    # forget every bucket, object, log group ...

    with S3Emulator(separate_process=True) as emulator:   # moto's server in a child process

In-process (the default) the server answers from threads of this interpreter: quick to start,
but its request handling runs on this process's GIL. A separate process keeps that work off it,
as a real AWS endpoint is: what the bench needs when it times a client's own threads.

`environment()` gives the variables that point boto3 (AWS_ENDPOINT_URL) and dummy credentials
at it; :class:`lib.spark.SparkFactory` reads the same AWS_ENDPOINT_URL for S3A, so every tool,
job and test talks to one place. moto is a development dependency: import this module only in
local tooling and tests.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

START_SECONDS = 60.0  # a separate server process: import moto, then bind
# The separate process: moto's server, which ends when its stdin does. That pipe's other end
# is this process's, so the server goes when stop() closes it, or when this process dies in
# any way (killed too), and never outlives it.
_CHILD = """
import os, sys, threading
def watch():
    sys.stdin.buffer.read()
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
from moto.server import main
main(sys.argv[1:])
"""
_RUNNING_ON = re.compile(r"Running on http://(\[[0-9A-Fa-f:.]+\]|[^:/\s\[]+):(\d+)")


class S3Emulator:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, separate_process: bool = False):
        self.host = host
        self.port = port
        self.separate_process = separate_process
        self._server: Any = None  # moto's ThreadedMotoServer, or the child process
        self._address: tuple[str, int] | None = None

    @property
    def endpoint_url(self) -> str:
        if self._server is None or self._address is None:
            raise RuntimeError("the emulator is not running")
        host, port = self._address
        return f"http://{host}:{port}"

    def start(self) -> S3Emulator:
        if self._server is not None:
            raise RuntimeError(f"the emulator is already running at {self.endpoint_url}")
        if self.separate_process:
            return self._start_process()
        from moto.server import ThreadedMotoServer

        # werkzeug logs every request at INFO: far too much for a job's console
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        server.start()
        self._server = server
        self._address = server.get_host_and_port()
        return self

    def _start_process(self) -> S3Emulator:
        # port 0: the child binds a free one and says which ("Running on http://host:port"),
        # so no other server can take it between a probe and the bind. Its output goes to a
        # file: a pipe nobody reads would fill up and stall it.
        command = [sys.executable, "-c", _CHILD, "-H", self.host, "-p", str(self.port)]
        with tempfile.TemporaryFile() as output:  # the child keeps its own handle
            self._server = child = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=output, stderr=subprocess.STDOUT
            )
            atexit.register(self.stop)  # a script that never calls stop() leaves no server
            # a forked child (multiprocessing) must not hold the pipe open, nor stop the server
            forget = functools.partial(_forget_in_child, weakref.ref(self))
            os.register_at_fork(after_in_child=forget)
            deadline = time.monotonic() + START_SECONDS
            try:
                while self._address is None:
                    output.seek(0)
                    said = output.read().decode("utf-8", "replace")
                    if child.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"the moto server process did not start: {said[-2000:]}")
                    running = _RUNNING_ON.search(said)
                    if running is None:
                        time.sleep(0.1)
                    else:
                        self._address = (running.group(1), int(running.group(2)))
            except BaseException:  # not started, or interrupted: no server left behind
                self.stop()
                raise
        return self

    def stop(self) -> None:
        server = self._let_go()
        if server is None:
            return
        if isinstance(server, subprocess.Popen):
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        else:
            server.stop()

    def _let_go(self) -> Any:
        """Forget the server and return it; for a child process, also close this process's end
        of its stdin pipe (the child's watcher exits on that) and drop the exit hook."""
        server, self._server, self._address = self._server, None, None
        if isinstance(server, subprocess.Popen):
            atexit.unregister(self.stop)
            with contextlib.suppress(OSError):
                server.stdin.close()
        return server

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


def _forget_in_child(reference: weakref.ref[S3Emulator]) -> None:
    """In a forked child: close its copy of the server's stdin pipe, so that the server still
    ends with the parent, and forget the server (the child's exit must not stop it)."""
    emulator = reference()
    if emulator is not None and isinstance(emulator._server, subprocess.Popen):
        emulator._let_go()


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
