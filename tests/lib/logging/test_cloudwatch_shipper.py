"""The CloudWatch sink's process delivery (lib.logging.shipper): a real child process, the moto
server over HTTP, real outages (a refused port, a stopped or killed shipper, a killed job).
Nothing logged may go missing: every event is in CloudWatch or in the fallback."""

from __future__ import annotations

import enum
import io
import json
import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
import types
import uuid
from pathlib import Path

import boto3
import pytest

from lib.logging.cloudwatch import CloudwatchLogs
from lib.logging.logger import Logger
from tests.lib.logging import GROUP, balanced, in_threads
from tooling.local.outages import THROTTLED, ScriptedEndpoint, refused_endpoint

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def credentials(monkeypatch):
    """Signed requests, as against AWS (the endpoints here never check the signature)."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():  # fmt: skip
        monkeypatch.setenv(key, value)


def shipping(endpoint_url: str, create: bool = True, **options) -> CloudwatchLogs:
    """A process-delivery sink, its group and stream made (`create`), formatting the message
    alone (CloudWatch's usual: the event carries its time)."""
    options.setdefault("fallback", io.StringIO())
    sink = CloudwatchLogs(
        region="eu-west-1",
        log_group_name=GROUP,
        log_stream_name=f"s-{uuid.uuid4().hex[:8]}",
        endpoint_url=endpoint_url,
        delivery="process",
        **options,
    )
    sink.setFormatter(logging.Formatter("%(message)s"))
    if create:
        sink.create_log_group()
        sink.create_log_stream()
    return sink


def received_all(sink: CloudwatchLogs, count: int, seconds: float = 10.0) -> None:
    """Wait until the shipper has taken `count` items from the pipe."""
    deadline = time.monotonic() + seconds
    while sink._link._received < count:
        assert time.monotonic() < deadline, sink.snapshot()
        time.sleep(0.05)


def stored(stream: str, endpoint_url: str) -> list[str]:
    client = boto3.client("logs", endpoint_url=endpoint_url, region_name="eu-west-1")
    messages: list[str] = []
    token = None
    while True:
        extra = {"nextToken": token} if token else {}
        page = client.get_log_events(
            logGroupName=GROUP, logStreamName=stream, startFromHead=True, **extra
        )
        messages += [event["message"] for event in page["events"]]
        if page["nextForwardToken"] == token:
            return messages
        token = page["nextForwardToken"]


def in_fallback(sink: CloudwatchLogs) -> list[dict]:
    lines = sink._fallback.getvalue().splitlines()
    return [json.loads(line) for line in lines if line.startswith('{"fallback":')]


def standard_logger(sink: CloudwatchLogs) -> logging.Logger:
    logger = logging.Logger(f"shipper-{uuid.uuid4().hex[:6]}", logging.INFO)
    logger.addHandler(sink)
    return logger


def test_every_event_reaches_cloudwatch_from_a_child_process(moto_server):
    sink = shipping(moto_server.endpoint_url)
    logger = standard_logger(sink)

    def log(thread: int) -> None:
        for n in range(500):
            logger.info(f"t{thread} {n:04d}")

    in_threads(log, 4)
    sink.info("through the sink's own info")
    logger.info("with %s", "arguments")  # the long way: formatted here
    sink.flush()
    shipper = sink._link._process
    assert shipper.pid != os.getpid()
    sink.close()
    assert shipper.poll() == 0  # exited after its sink closed
    messages = stored(sink.log_stream_name, moto_server.endpoint_url)
    assert len(messages) == 2002
    for thread in range(4):  # each thread's events in its order
        mine = [m for m in messages if m.startswith(f"t{thread} ")]
        assert mine == [f"t{thread} {n:04d}" for n in range(500)]
    assert messages[-2:] == ["through the sink's own info", "with arguments"]
    figures = balanced(sink)
    assert figures["sent"] == figures["enqueued"] == 2002
    assert figures["pending"] == figures["to_fallback"] == 0
    assert in_fallback(sink) == []


def test_the_shipper_redacts_with_the_values_masked_before_each_call(moto_server):
    sink = shipping(moto_server.endpoint_url)
    logger = standard_logger(sink)
    logger.info("early hunter2-secret")  # not masked yet: only patterns apply
    sink.flush()
    sink.redactor.mask("hunter2-secret")
    logger.info("later hunter2-secret")
    logger.info("password=abc123xyz")
    job = Logger(loggers=[sink], redactor=None)  # a Logger redacts once, before its sinks
    job.mask("tok-999999")
    job.info("job tok-999999")
    sink.close()
    assert stored(sink.log_stream_name, moto_server.endpoint_url) == [
        "early hunter2-secret",
        "later *****",
        "password=*****",
        "job *****",
    ]
    balanced(sink)


def test_a_refused_endpoint_puts_every_event_in_the_fallback_within_the_deadline():
    sink = shipping(refused_endpoint(), create=False, flush_deadline=3.0)
    logger = standard_logger(sink)
    for n in range(50):
        logger.info(f"event {n}")
    started = time.monotonic()
    sink.close()
    assert time.monotonic() - started < 3.0 + 5.0
    found = in_fallback(sink)
    assert sorted(event["message"] for event in found) == sorted(f"event {n}" for n in range(50))
    assert {event["reason"] for event in found} == {"gave_up:EndpointConnectionError"}
    figures = balanced(sink)
    assert figures["to_fallback"] == 50 and figures["sent"] == 0


def test_a_killed_shipper_hands_what_it_had_not_sent_to_the_fallback(moto_server):
    sink = shipping(moto_server.endpoint_url, flush_interval=3600)  # the shipper holds what it gets
    logger = standard_logger(sink)
    for n in range(300):
        logger.info(f"event {n}")
    received_all(sink, 300)
    sink._link._process.kill()
    logger.info("after the kill")
    sink.close()
    found = in_fallback(sink)
    assert sorted(event["message"] for event in found) == sorted(
        [f"event {n}" for n in range(300)] + ["after the kill"]
    )
    # the reader sees it end, or the next shipment its broken pipe, first
    assert {event["reason"] for event in found} <= {
        "shipper_exited:-9",
        "shipper_lost:BrokenPipeError",
    }
    assert "shipper for" in sink._fallback.getvalue()  # said once, on the fallback
    figures = balanced(sink)
    assert figures["to_fallback"] == 301 and figures["shipper_lost"] == 1


def test_a_shipper_that_stops_reading_never_blocks_the_logging_call(moto_server):
    sink = shipping(moto_server.endpoint_url, max_buffer_events=200, flush_deadline=1.0)
    logger = standard_logger(sink)
    logger.info("first")
    sink.flush()  # the shipper runs
    shipper = sink._link._process
    os.kill(shipper.pid, signal.SIGSTOP)
    try:
        line = "x" * 2000
        started = time.monotonic()
        for n in range(20_000):  # 40 MB: more than the pipe holds
            logger.info(f"{n:05d} {line}")
        assert time.monotonic() - started < 10
        started = time.monotonic()
        sink.close()  # the shipper does not answer: killed after the deadline and 5 s
        assert time.monotonic() - started < 1.0 + 5.0 + 3.0
    finally:
        if shipper.poll() is None:  # the test failed before the sink killed it
            shipper.kill()
    found = in_fallback(sink)
    reasons = {event["reason"] for event in found}
    assert "buffer_full" in reasons
    assert reasons <= {"buffer_full", "shipper_unanswered:close", "closed"}
    sent = stored(sink.log_stream_name, moto_server.endpoint_url)
    accounted = {event["message"][:5] for event in found} | {m[:5] for m in sent}
    assert accounted >= {f"{n:05d}" for n in range(20_000)}  # none missing
    balanced(sink)


def test_the_shipper_delivers_what_it_got_when_the_job_is_killed(moto_server):
    stream = f"killed-{uuid.uuid4().hex[:8]}"
    script = f"""
import logging, os, signal, time
from lib.logging.cloudwatch import CloudwatchLogs
sink = CloudwatchLogs(region="eu-west-1", log_group_name={GROUP!r}, log_stream_name={stream!r},
                      endpoint_url={moto_server.endpoint_url!r}, delivery="process")
sink.setFormatter(logging.Formatter("%(message)s"))
sink.create_log_group(); sink.create_log_stream()
logger = logging.Logger("job"); logger.addHandler(sink)
for n in range(400):
    logger.info(f"event {{n}}")
while sink._link._received < 400:
    time.sleep(0.05)  # until the shipper has all 400
os.kill(os.getpid(), signal.SIGKILL)
"""
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert result.returncode == -signal.SIGKILL, result.stderr
    deadline = time.monotonic() + 20
    messages: list[str] = []
    while len(messages) < 400 and time.monotonic() < deadline:
        time.sleep(0.2)
        messages = stored(stream, moto_server.endpoint_url)
    assert messages == [f"event {n}" for n in range(400)]


def test_a_forked_child_and_an_unpickled_sink_ship_their_own_events(moto_server):
    stream = f"forked-{uuid.uuid4().hex[:8]}"
    script = f"""
import multiprocessing, pickle
from lib.aws import AWS
aws = AWS(region_name="eu-west-1", endpoint_url={moto_server.endpoint_url!r})
parent = aws.logs(log_group_name={GROUP!r}, log_stream_name={stream!r}, delivery="process")
parent.info("from the parent")
parent.flush()

def child():
    parent.info("from the child")  # a child starts empty, with a shipper of its own
    pickle.loads(pickle.dumps(parent)).info("unpickled in the child")

process = multiprocessing.get_context("fork").Process(target=child)
process.start()
process.join()
assert process.exitcode == 0, process.exitcode
assert pickle.loads(pickle.dumps(parent)).delivery == "process"
"""
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    messages = [json.loads(m)["message"] for m in stored(stream, moto_server.endpoint_url)]
    assert sorted(messages) == ["from the child", "from the parent", "unpickled in the child"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"delivery": "courier"}, "delivery must be one of"),
        ({"delivery": "process", "clock": lambda: 0.0}, "neither a clock"),
        ({"delivery": "process", "use_batches": False}, "use_batches=False"),
    ],
)
def test_a_delivery_it_cannot_keep_is_refused(options, message):
    with pytest.raises(ValueError, match=message):
        CloudwatchLogs(region="eu-west-1", log_group_name=GROUP, log_stream_name="s", **options)


def test_a_formatter_set_later_takes_the_long_way(moto_server):
    """Process delivery judges the formatter when it is set: a JSON formatter set after the
    plain one makes JSON lines, redacted in the call."""
    sink = shipping(moto_server.endpoint_url)
    sink.setFormatter(CloudwatchLogs(log_group_name="g", log_stream_name="s").formatter)
    sink.info("password=abc123xyz")
    sink.close()
    (line,) = stored(sink.log_stream_name, moto_server.endpoint_url)
    assert json.loads(line)["message"] == "password=*****"
    assert pickle.loads(pickle.dumps(sink)).delivery == "process"


# ---------------------------------------------------------------------- a review's finds


def test_events_after_close_go_to_the_fallback_not_nowhere(moto_server):
    """A call after close() (an atexit hook that runs after the sink's, py4j's say)."""
    sink = shipping(moto_server.endpoint_url)
    sink.info("before")
    sink.close()
    sink.info("after close")
    sink.enqueue("enqueued after close")
    found = in_fallback(sink)
    assert [(event["message"], event["reason"]) for event in found] == [
        ("after close", "closed"),
        ("enqueued after close", "closed"),
    ]
    assert stored(sink.log_stream_name, moto_server.endpoint_url) == ["before"]
    figures = balanced(sink)
    assert figures["pending"] == 0 and figures["to_fallback"] == 2


def test_an_event_held_back_by_the_shippers_batching_is_not_settled(moto_server):
    """Batches go in time order and a partial batch waits: a newer event shipped first is
    still the shipper's after an older full batch went. Killed then, it must come back."""
    sink = shipping(moto_server.endpoint_url, batch_size=10)
    now = int(time.time() * 1000)
    sink.enqueue("newer", now)
    received_all(sink, 1)
    for n in range(10):
        sink.enqueue(f"older {n}", now - 1000)
    deadline = time.monotonic() + 10
    while sink.snapshot()["sent"] < 10:  # the full batch of the older ten went
        assert time.monotonic() < deadline, sink.snapshot()
        time.sleep(0.05)
    time.sleep(3 * 0.1)  # reports come every 0.1 s: what they say is what is checked
    sink._link._process.kill()
    sink.close()
    assert stored(sink.log_stream_name, moto_server.endpoint_url) == [
        f"older {n}" for n in range(10)
    ]
    assert "newer" in [event["message"] for event in in_fallback(sink)]
    balanced(sink)


def test_values_marshal_would_refuse_are_sent_as_their_text(moto_server):
    """str and int subclasses (enums) in messages, tags, levels and masked values."""

    class Colour(enum.StrEnum):
        RED = "red-secret-value"

    class Level(enum.IntEnum):
        INFO = logging.INFO

    sink = shipping(
        moto_server.endpoint_url,
        tags=types.MappingProxyType({"team": Colour.RED}),
        log_level=Level.INFO,
    )
    sink.redactor.mask(Colour.RED)
    sink.enqueue(Colour.RED)
    sink.enqueue(enum.StrEnum("Word", {"HELLO": "hello"}).HELLO)  # kept as it is by redaction
    sink.info("a %s message", Colour.RED)
    logger = standard_logger(sink)
    logger.info(Colour.RED)  # not a str: formatted in the call
    sink.setFormatter(None)  # no formatter: logging's default, and the sink's own redactor
    logger.info("no formatter")
    sink.close()
    assert stored(sink.log_stream_name, moto_server.endpoint_url) == [
        "*****",
        "hello",
        "a ***** message",
        "*****",
        "no formatter",
    ]
    assert in_fallback(sink) == []
    assert balanced(sink)["shipper_lost"] == 0


def test_the_shipper_outlives_a_signal_to_the_jobs_process_group(moto_server):
    """YARN, Kubernetes and systemd stop a process group with SIGTERM: a job that handles it
    and exits cleanly still has its shipper to deliver its events."""
    sink = shipping(moto_server.endpoint_url)
    sink.info("before the signal")
    sink.flush()
    for name in ("SIGTERM", "SIGHUP", "SIGINT"):
        os.kill(sink._link._process.pid, getattr(signal, name))
    time.sleep(0.3)
    assert sink._link._process.poll() is None
    sink.info("after the signal")
    sink.close()
    assert stored(sink.log_stream_name, moto_server.endpoint_url) == [
        "before the signal",
        "after the signal",
    ]


def test_a_burst_past_the_cap_waits_for_a_healthy_shipper_instead_of_shedding(moto_server):
    sink = shipping(moto_server.endpoint_url, max_buffer_bytes=4 * 1024 * 1024)
    logger = standard_logger(sink)
    for n in range(24):  # 24 MB in a few ms: six times the cap
        logger.info(f"{n:02d} " + "x" * 1_000_000)
    sink.close()
    assert in_fallback(sink) == []
    figures = balanced(sink)
    assert figures["sent"] == 4 * 24  # each message in four pieces of at most 256 KiB


def test_a_shipper_busy_with_a_throttled_backlog_is_waited_for_not_killed():
    """Its answer to a flush comes after earlier frames' flushes (each up to the deadline):
    later than flush_deadline + 5 s, while it reports every second. flush() stops waiting;
    the shipper lives on, and later events are still tried."""
    with ScriptedEndpoint([THROTTLED]) as endpoint:
        sink = shipping(
            endpoint.endpoint_url, create=False, flush_deadline=6, max_buffer_events=50,
            max_attempts=1000, backoff_multiplier=1, max_backoff=1, flush_interval=1,
        )  # fmt: skip
        logger = standard_logger(sink)
        for n in range(40):
            logger.info(f"a{n}")
        time.sleep(1.8)  # its flusher retries a throttled batch
        for n in range(60):
            logger.info(f"b{n}")  # over its cap: it flushes in its reading loop
        time.sleep(0.3)
        sink.flush()
        assert sink._link._lost is None, sink._fallback.getvalue()[-500:]
        before = endpoint.requests
        logger.info("later")
        time.sleep(1.5)
        assert endpoint.requests > before
        sink.close()  # it works on past flush_deadline + 5 s, reporting: waited for too
        assert sink._link._lost is None, sink._fallback.getvalue()[-500:]
    assert {event["reason"] for event in in_fallback(sink)} == {"gave_up:ThrottlingException"}
    figures = balanced(sink)
    assert figures["to_fallback"] == 101 and figures["pending"] == 0


def test_flushes_racing_close_raise_no_false_alarm(moto_server):
    sink = shipping(moto_server.endpoint_url)
    logger = standard_logger(sink)
    logger.info("first")
    sink.flush()

    def flush_and_log(n: int) -> None:
        for k in range(200):
            logger.info(f"{n}-{k}")
            sink.flush()

    threads = [threading.Thread(target=flush_and_log, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(0.05)
    sink.close()
    for thread in threads:
        thread.join()
    assert "is gone" not in sink._fallback.getvalue()
    assert {event["reason"] for event in in_fallback(sink)} <= {"closed"}
    figures = balanced(sink)
    assert figures["shipper_lost"] == 0 and figures["pending"] == 0


def test_no_thread_to_be_had_once_is_tried_again_and_a_path_entry_is_kept(moto_server, monkeypatch):
    """A thread limit hit once (the next call starts it), and a pathlib.Path in sys.path
    (the import system takes it; the shipper gets it as text)."""
    monkeypatch.setattr(sys, "path", [*sys.path, Path("/nonexistent-entry")])
    sink = shipping(moto_server.endpoint_url)
    start = threading.Thread.start
    refusals = iter([RuntimeError("can't start new thread")])

    def refusing_start(thread):
        error = next(refusals, None)
        if error is not None:
            raise error
        start(thread)

    monkeypatch.setattr(threading.Thread, "start", refusing_start)
    logger = standard_logger(sink)
    logger.info("no thread for this call")  # counted as a failure, queued
    logger.info("the next call starts it")
    received_all(sink, 2, seconds=5)  # shipped by the thread, not by close()
    sink.close()
    assert stored(sink.log_stream_name, moto_server.endpoint_url) == [
        "no thread for this call",
        "the next call starts it",
    ]
    assert sink.failures == 1
