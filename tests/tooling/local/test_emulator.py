"""The moto server in a process of its own (what the bench times clients against)."""

from __future__ import annotations

import boto3
import pytest

from tooling.local.emulator import S3Emulator


def test_a_separate_process_serves_resets_and_ends_with_stop():
    emulator = S3Emulator(separate_process=True).start()
    try:
        child = emulator._server
        s3 = boto3.client("s3", endpoint_url=emulator.endpoint_url, **emulator_credentials())
        location = {"LocationConstraint": "eu-west-1"}
        s3.create_bucket(Bucket="lake", CreateBucketConfiguration=location)
        assert [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]] == ["lake"]
        emulator.reset()
        assert s3.list_buckets()["Buckets"] == []
    finally:
        emulator.stop()
    assert child.poll() is not None  # the child is gone, not left serving
    with pytest.raises(RuntimeError, match="not running"):
        _ = emulator.endpoint_url


def test_a_port_in_use_is_a_clear_error_and_leaves_no_process():
    with S3Emulator(separate_process=True) as first:
        taken = int(first.endpoint_url.rsplit(":", 1)[1])
        second = S3Emulator(port=taken, separate_process=True)
        with pytest.raises(RuntimeError, match=r"did not start.*in use"):
            second.start()
        assert second._server is None
        # the first server still answers: the failed start did not take its port over
        s3 = boto3.client("s3", endpoint_url=first.endpoint_url, **emulator_credentials())
        assert s3.list_buckets()["Buckets"] == []


def emulator_credentials() -> dict[str, str]:
    return {
        "region_name": "eu-west-1",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }


def test_the_server_process_never_outlives_its_parent(tmp_path):
    """Killed (SIGKILL: no atexit, no stop()) or ended without stop(), the parent leaves no
    server behind: the child ends when its stdin, the parent's pipe, does."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from tooling.bench import PROJECT_ROOT

    script = (
        "import sys, time\n"
        "from tooling.local.emulator import S3Emulator\n"
        "emulator = S3Emulator(separate_process=True).start()\n"
        "print(emulator._server.pid, flush=True)\n"
        "if sys.argv[1] == 'wait':\n"
        "    time.sleep(120)\n"
    )
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    for how in ("wait", "exit"):
        parent = subprocess.Popen([sys.executable, "-c", script, how], stdout=subprocess.PIPE,
                                  text=True, env=environment)  # fmt: skip
        child = int(parent.stdout.readline())
        if how == "wait":
            parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=60)
        deadline = time.monotonic() + 15
        while alive(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(child), f"the server outlived its parent ({how})"


def test_starting_a_running_emulator_is_refused():
    emulator = S3Emulator(separate_process=True).start()
    try:
        with pytest.raises(RuntimeError, match="already running"):
            emulator.start()
    finally:
        emulator.stop()


def alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie (not yet reaped) counts as gone
        return stat.read().split(") ", 1)[1][0] != "Z"


def test_a_forked_child_neither_keeps_the_server_alive_nor_stops_it():
    """multiprocessing's fork: the child's copy of the pipe is closed (the server still ends
    with the parent) and its exit leaves the parent's server serving."""
    import os
    import urllib.request

    emulator = S3Emulator(separate_process=True).start()
    try:
        pid = os.fork()
        if pid == 0:  # the child: the emulator forgot the server (its atexit stops nothing)
            code = 0 if emulator._server is None and emulator._address is None else 1
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        with urllib.request.urlopen(f"{emulator.endpoint_url}/moto-api/", timeout=10) as answer:
            assert answer.status == 200
    finally:
        emulator.stop()
