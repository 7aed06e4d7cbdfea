"""The CloudWatch Logs sink against watchtower on the same moto server.

Both sit behind a stdlib logger and take the same 100,000 messages of 200 bytes, sent to a moto
server in a process of its own (as a real endpoint is remote: in this process its request
handling would run on the same GIL as the handlers' threads). Our sink is measured with each
delivery: "process" (the driver's, conf/base.yaml: a child process sends) and "thread" (a
thread of the caller's sends). Measured: µs per `logger.info`
call (the hot path a job pays), seconds to drain on close, the CPU per event from the first
call to the end of close() (this process's threads, and the shipper's process: it ends in
close()), and the
PutLogEvents calls each made (counted with a botocore before-call hook on its client), and the
events in moto right after close() returned and again a few seconds later (watchtower counts
a message done when it is batched, not when it is sent, so close() can return early). And the
floor: the same calls to a handler that formats each record in the caller and drops it (what
the standard logger and formatting cost before any handler's own work).

The four are measured in alternation over ROUNDS rounds (each round a new log stream) and
the median per call is reported: single runs on this machine vary by 20 % or more.
"""

from __future__ import annotations

import contextlib
import logging
import resource
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

import boto3

EVENTS = 100_000
MESSAGE_BYTES = 200
REGION = "eu-west-1"
SETTLE_SECONDS = 5.0
ROUNDS = 3


def messages(count: int) -> list[str]:
    return [f"{index:08d} " + "x" * (MESSAGE_BYTES - 9) for index in range(count)]


def delivered(endpoint_url: str, group: str, stream: str) -> int:
    client = boto3.client("logs", endpoint_url=endpoint_url, region_name=REGION)
    seen: set[str] = set()
    token = None
    while True:
        options = {"nextToken": token} if token else {}
        page = client.get_log_events(
            logGroupName=group, logStreamName=stream, startFromHead=True, **options
        )
        seen.update(event["message"][:8] for event in page["events"])
        if not page["events"] or page["nextForwardToken"] == token:
            return len(seen)
        token = page["nextForwardToken"]


def cpu_seconds() -> float:
    """This process's CPU, and that of its children that ended (a shipper ends in close())."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def drive(handler: logging.Handler, lines: list[str]) -> tuple[float, float, float]:
    """(µs per logger.info call, seconds to close, µs of CPU per line from the first call
    until close() returned: every thread of the handler's and its shipper process's, the
    server not included) for `lines` through `handler`."""
    logger = logging.Logger(f"bench-{id(handler)}", logging.INFO)
    logger.addHandler(handler)
    cpu = cpu_seconds()
    started = time.perf_counter()
    for line in lines:
        logger.info(line)
    hot = time.perf_counter() - started
    started = time.perf_counter()
    handler.close()
    drain = time.perf_counter() - started
    cpu = cpu_seconds() - cpu
    return hot / len(lines) * 1e6, drain, cpu / len(lines) * 1e6


def counting(client: Any) -> list[int]:
    calls: list[int] = []
    client.meta.events.register(
        "before-call.cloudwatch-logs.PutLogEvents", lambda **kwargs: calls.append(1)
    )
    return calls


def ours(
    endpoint_url: str, lines: list[str], stream: str = "sink", delivery: str = "process"
) -> dict[str, Any]:
    from lib.logging.cloudwatch import CloudwatchLogs

    group = f"/bench/datalake-etl-{delivery}"
    sink = CloudwatchLogs(
        region=REGION, log_group_name=group, log_stream_name=stream, endpoint_url=endpoint_url,
        delivery=delivery,
    )  # fmt: skip
    sink.setFormatter(logging.Formatter("%(message)s"))
    sink.create_log_group()
    sink.create_log_stream()
    if delivery == "thread":
        calls = counting(sink.client)
        return result(lambda: drive(sink, lines), lambda: len(calls), endpoint_url, group, stream)
    # the shipper's client is in its own process: its sink's count of PutLogEvents attempts
    return result(
        lambda: drive(sink, lines), lambda: sink.snapshot()["put_calls"], endpoint_url, group,
        stream,
    )  # fmt: skip


def watchtower_handler(endpoint_url: str, lines: list[str], stream: str = "sink") -> dict[str, Any]:
    import watchtower

    group = "/bench/watchtower"
    client = boto3.client("logs", endpoint_url=endpoint_url, region_name=REGION)
    with contextlib.suppress(client.exceptions.ResourceAlreadyExistsException):
        client.create_log_group(logGroupName=group)
    # created beforehand, as for our sink: watchtower drops what is logged while it creates one
    client.create_log_stream(logGroupName=group, logStreamName=stream)
    calls = counting(client)
    handler = watchtower.CloudWatchLogHandler(
        log_group_name=group, log_stream_name=stream, boto3_client=client
    )
    handler.setFormatter(logging.Formatter("%(message)s"))
    return result(lambda: drive(handler, lines), lambda: len(calls), endpoint_url, group, stream)


def result(
    run: Callable[[], tuple[float, float, float]], calls: Callable[[], int], endpoint_url: str,
    group: str, stream: str,
) -> dict[str, Any]:  # fmt: skip
    per_call_us, drain, cpu_us = run()
    at_close = delivered(endpoint_url, group, stream)
    time.sleep(SETTLE_SECONDS)  # a handler may go on sending after close() returned
    return {
        "us_per_log_call": round(per_call_us, 2),
        "drain_seconds": round(drain, 2),
        "cpu_us_per_event": round(cpu_us, 2),
        "put_log_events_calls": calls(),
        "events_delivered_at_close": at_close,
        "events_delivered": delivered(endpoint_url, group, stream),
    }


class FormatOnly(logging.Handler):
    """A handler that formats each record in the caller and drops it."""

    def emit(self, record: logging.LogRecord) -> None:
        self.format(record)


def stdlib_floor(lines: list[str]) -> float:
    """µs per `logger.info` call through a standard logger to a handler that only formats:
    what every handler of a standard logger pays before its own work (LogRecord, caller
    lookup, handler dispatch, formatting)."""
    handler = FormatOnly()
    handler.setFormatter(logging.Formatter("%(message)s"))
    per_call_us, _, _ = drive(handler, lines)
    return round(per_call_us, 2)


def bench_cloudwatch(
    endpoint_url: str, count: int = EVENTS, rounds: int = ROUNDS
) -> dict[str, Any]:
    """Per handler: the median µs per call over `rounds` alternated rounds, each on a log
    stream of its own, and the fewest events a round delivered (the bench counts a round short
    of `count` as a missed target)."""
    lines = messages(count)
    floors: list[float] = []
    runs: dict[str, list[dict[str, Any]]] = {
        "datalake_etl": [], "datalake_etl_thread": [], "watchtower": [],
    }  # fmt: skip
    for index in range(rounds):
        stream = f"sink-{index}-{uuid.uuid4().hex[:8]}"  # never one a previous bench filled
        floors.append(stdlib_floor(lines))
        runs["datalake_etl"].append(ours(endpoint_url, lines, stream, "process"))
        runs["datalake_etl_thread"].append(ours(endpoint_url, lines, stream, "thread"))
        runs["watchtower"].append(watchtower_handler(endpoint_url, lines, stream))
    return {
        "events": count,
        "message_bytes": MESSAGE_BYTES,
        "rounds": rounds,
        "stdlib_floor_us_per_log_call": round(statistics.median(floors), 2),
        **{name: summarised(results) for name, results in runs.items()},
    }


def summarised(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians of the timings and of the PutLogEvents calls; the fewest events delivered (at
    close, and after settling) in any round."""

    def median(key: str) -> float:
        return round(statistics.median(result[key] for result in results), 2)

    return {
        "us_per_log_call": median("us_per_log_call"),
        "us_per_log_call_rounds": [result["us_per_log_call"] for result in results],
        "drain_seconds": median("drain_seconds"),
        "cpu_us_per_event": median("cpu_us_per_event"),
        "put_log_events_calls": median("put_log_events_calls"),
        "events_delivered_at_close": min(r["events_delivered_at_close"] for r in results),
        "events_delivered": min(result["events_delivered"] for result in results),
    }
