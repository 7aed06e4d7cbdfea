"""The CloudWatch sink when the endpoint is silent, refuses, or answers with errors (issue 13).

Real botocore over real sockets: a listener that never answers, a closed port, a scripted
HTTP endpoint, the moto server. Every sink's counters must balance afterwards."""

from __future__ import annotations

import io
import json
import os
import pickle
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError

from lib.logging.cloudwatch import CloudwatchLogs, EndpointUnavailable
from tests.lib.logging import balanced
from tooling.local.outages import (
    EXPIRED_TOKEN,
    ScriptedEndpoint,
    SilentEndpoint,
    refused_endpoint,
)

ROOT = Path(__file__).resolve().parents[3]
GROUP = "/datalake-etl/outages"


@pytest.fixture(autouse=True)
def credentials(monkeypatch):
    """Signed requests, as against AWS (the endpoints here never check the signature)."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():  # fmt: skip
        monkeypatch.setenv(key, value)


def reasons(sink: CloudwatchLogs) -> list[str]:
    lines = sink._fallback.getvalue().splitlines()
    return [json.loads(line)["reason"] for line in lines if line.startswith('{"fallback":')]


def sink_at(endpoint_url: str, **options) -> CloudwatchLogs:
    options.setdefault("flush_interval", 0)
    options.setdefault("fallback", io.StringIO())
    options.setdefault("log_group_name", GROUP)
    return CloudwatchLogs(
        region="eu-west-1",
        log_stream_name=f"s-{uuid.uuid4().hex[:8]}",
        endpoint_url=endpoint_url,
        **options,
    )


def test_a_silent_endpoint_costs_one_attempt_budget_then_the_breaker_skips_it():
    with SilentEndpoint() as silent:
        first = sink_at(silent.endpoint_url, flush_deadline=2.0, read_timeout=60)
        for n in range(3):
            first.info(f"event {n}")
        started = time.monotonic()
        first.flush()
        elapsed = time.monotonic() - started
        assert elapsed < 2.0, elapsed  # one attempt (0.5 s budget), not 60 s x 3
        assert reasons(first) == ["gave_up:ReadTimeoutError"] * 3
        connections = silent.connections
        # another sink of this process on the same endpoint: straight to the fallback
        second = sink_at(silent.endpoint_url, flush_deadline=2.0)
        second.info("later")
        started = time.monotonic()
        second.flush()
        second.close()
        assert time.monotonic() - started < 0.2
        assert reasons(second) == ["endpoint_unavailable:ReadTimeoutError"]
        with pytest.raises(EndpointUnavailable):
            second.create_log_group()
        assert silent.connections == connections
        assert "did not answer" in first._fallback.getvalue()
        balanced(first), balanced(second)


def test_a_refused_port_is_retried_within_the_deadline_then_skipped():
    url = refused_endpoint()
    sink = sink_at(url, flush_deadline=3.0, backoff_multiplier=0.05)
    sink.info("one")
    started = time.monotonic()
    sink.flush()
    assert time.monotonic() - started < 3.0
    assert reasons(sink) == ["gave_up:EndpointConnectionError"]
    assert sink.snapshot()["retries"] >= 1
    sink.info("two")
    sink.flush()
    assert reasons(sink)[-1] == "endpoint_unavailable:EndpointConnectionError"
    balanced(sink)


def test_no_attempt_starts_that_cannot_end_before_the_flush_deadline():
    with SilentEndpoint() as silent:
        sink = sink_at(silent.endpoint_url, flush_deadline=2.0, breaker_seconds=0)
        day = 25 * 3600 * 1000  # a batch spans 24 h at most: twelve buffered batches of one
        start = int(time.time() * 1000) - 12 * day
        for n in range(12):  # each attempt gets 0.5 s at most
            sink.enqueue(f"event {n}", timestamp_ms=start + n * day)
        started = time.monotonic()
        sink.close()
        assert time.monotonic() - started < 2.2
        found = reasons(sink)
        assert len(found) == 12
        assert "flush_deadline" in found and found.count("gave_up:ReadTimeoutError") < 12
        balanced(sink)


def test_expired_credentials_drop_the_client_pause_the_sink_and_recover():
    now = [1_000.0]
    with ScriptedEndpoint([EXPIRED_TOKEN, EXPIRED_TOKEN, (200, {})]) as scripted:
        sink = sink_at(scripted.endpoint_url, breaker_seconds=30, clock=lambda: now[0])
        sink.info("a")
        sink.flush()
        assert scripted.requests == 2  # retried once with a new client, then paused
        assert reasons(sink) == ["credentials:ExpiredTokenException"]
        assert sink.snapshot()["credential_refreshes"] == 2
        sink.info("b")
        sink.flush()
        assert scripted.requests == 2  # paused: not even tried
        assert reasons(sink)[-1] == "credentials:ExpiredTokenException"
        now[0] += 31
        sink.info("c")
        sink.flush()
        assert scripted.requests == 3
        assert scripted.targets[-1] == "Logs_20140328.PutLogEvents"
        figures = balanced(sink)
        assert figures["sent"] == 1 and figures["to_fallback"] == 2


def test_a_group_created_lazily_gets_retention_and_tags(moto_server):
    client = boto3.client("logs", endpoint_url=moto_server.endpoint_url, region_name="eu-west-1")
    sink = sink_at(moto_server.endpoint_url, retention_days=7, tags={"project": "lake"})
    sink.info("first")  # neither group nor stream exists
    sink.close()
    assert balanced(sink)["sent"] == 1
    (group,) = client.describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"]
    assert group["retentionInDays"] == 7
    assert client.list_tags_log_group(logGroupName=GROUP)["tags"] == {"project": "lake"}


def test_every_unpickle_in_a_process_reuses_one_sink():
    sink = sink_at("http://127.0.0.1:9", flush_interval=5.0, breaker_seconds=0)
    data = pickle.dumps(sink)
    threads_before = threading.active_count()
    copies = [pickle.loads(data) for _ in range(50)]
    for copy in copies:
        copy.info("from a task")
    assert all(copy is copies[0] for copy in copies)
    assert copies[0] is not sink
    assert threading.active_count() <= threads_before + 1
    copies[0]._fallback = io.StringIO()
    copies[0].close()
    assert balanced(copies[0])["enqueued"] == 50


def run_python(script: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=os.environ, capture_output=True,
        text=True, timeout=120, check=False,
    )  # fmt: skip


def stored(client, stream: str) -> list[str]:
    events = client.get_log_events(logGroupName=GROUP, logStreamName=stream, startFromHead=True)
    return [json.loads(event["message"])["message"] for event in events["events"]]


def test_events_of_an_unreferenced_sink_and_of_a_forked_child_reach_cloudwatch(moto_server):
    client = boto3.client("logs", endpoint_url=moto_server.endpoint_url, region_name="eu-west-1")
    script = f"""
import gc, multiprocessing
from lib.aws import AWS
aws = AWS(region_name="eu-west-1", endpoint_url={moto_server.endpoint_url!r})
aws.logs(log_group_name={GROUP!r}, log_stream_name="gone", flush_interval=0).info("kept")
gc.collect()
parent = aws.logs(log_group_name={GROUP!r}, log_stream_name="forked")

def child():
    parent.info("from the child")  # a multiprocessing child ends with os._exit

process = multiprocessing.get_context("fork").Process(target=child)
process.start()
process.join()
assert process.exitcode == 0, process.exitcode
"""
    result = run_python(script)
    assert result.returncode == 0, result.stderr
    assert stored(client, "gone") == ["kept"]
    assert stored(client, "forked") == ["from the child"]


def test_an_unexpected_error_while_sending_puts_the_batch_in_the_fallback():
    sink = sink_at("127.0.0.1:5055")  # no scheme: botocore raises ValueError, not a BotoCoreError
    sink.info("my message")
    sink.flush()  # never raises into the caller
    assert reasons(sink) == ["unusable_client:ValueError"]
    assert balanced(sink)["pending"] == 0
    with pytest.raises(ValueError, match="backoff_multiplier"):
        sink_at("http://127.0.0.1:9", backoff_multiplier=-1)


@pytest.mark.parametrize(
    ("group", "stream"),
    [("bad name", "s"), ("g" * 513, "s"), ("", "s"), (7, "s"), ("/g", "app:1"),
     ("/g", "a*"), ("/g", ""), ("/g", "s" * 513)],
)  # fmt: skip
def test_names_cloudwatch_refuses_turn_the_sink_off_not_the_job(group, stream):
    # the sink's client does not check requests (the sink builds them): the names are checked
    # here, and logging never fails the job: the events go to the fallback
    sink = CloudwatchLogs(
        region="eu-west-1", log_group_name=group, log_stream_name=stream,
        endpoint_url="http://127.0.0.1:9", flush_interval=0, fallback=io.StringIO(),
    )  # fmt: skip
    assert "CloudWatch Logs sink is off (log_" in sink._fallback.getvalue()
    sink.info("still logged")
    sink.flush()
    assert reasons(sink) == ["invalid_name"]
    assert balanced(sink)["put_calls"] == 0
    with pytest.raises(ValueError, match=r"log_(group|stream)_name"):
        sink.create_log_group()


def test_the_sinks_client_leaves_request_checks_to_the_sink():
    sink = sink_at("http://127.0.0.1:9", log_group_name="/a-b_c/D.9#x")
    # a request botocore's check refuses (no events) goes out: refused by the closed port
    with pytest.raises(EndpointConnectionError):
        sink.client.put_log_events(logGroupName="/g", logStreamName="s", logEvents=[])


def test_an_unpickle_after_a_task_closed_the_sink_gets_a_working_one():
    sink = sink_at("http://127.0.0.1:9", flush_interval=5.0, breaker_seconds=0)
    data = pickle.dumps(sink)
    first = pickle.loads(data)
    first._fallback = io.StringIO()
    with first:
        first.info("task 1")
    second = pickle.loads(data)
    assert second is not first and not second._closed
    second._fallback = io.StringIO()
    second.info("task 2")
    second.close()
    assert "closed" not in reasons(second)


def test_batch_size_above_the_service_limit_is_capped():
    assert sink_at("http://127.0.0.1:9", batch_size=20_000).batch_size == 10_000


class TricklingEndpoint(ScriptedEndpoint):
    """Sends its headers, then one body byte every 0.1 s: no single read ever times out."""

    def handler(self):
        class Handler(super().handler()):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(200)
                self.send_header("Content-Length", "100000")
                self.end_headers()
                try:
                    for _ in range(1000):
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        time.sleep(0.1)
                except OSError:
                    pass

        return Handler


def test_an_endpoint_that_trickles_its_answer_costs_one_attempt_budget():
    with TricklingEndpoint([(200, {})]) as trickling:
        sink = sink_at(trickling.endpoint_url, flush_deadline=2.0)
        sink.info("slowly")
        started = time.monotonic()
        sink.flush()
        assert time.monotonic() - started < 5.0  # one 0.5 s budget (+ client set-up), not 100 s
        assert reasons(sink) == ["gave_up:AttemptOverBudget"]
        balanced(sink)


def test_no_deadlock_with_the_logger_on_the_root_logger_and_botocore_debug(moto_server):
    """A caller at the buffer cap waits for the sender, whose botocore records go to root."""
    import logging

    from lib.logging import Logger

    sink = sink_at(moto_server.endpoint_url, batch_size=10, max_buffer_events=20,
                   flush_interval=0.05)  # fmt: skip
    log = Logger(loggers=[sink])
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)
    log.attach_to(root)
    try:
        threads = [
            threading.Thread(target=lambda: [logging.info("event %d", n) for n in range(300)])
            for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads), "deadlocked"
    finally:
        log.detach_from(root)
        root.setLevel(level)
    sink.close()
    assert balanced(sink)["enqueued"] >= 1200
