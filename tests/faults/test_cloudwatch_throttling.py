"""CloudWatch throttling on 20 % of PutLogEvents (seeded): every event arrives exactly once or is
in the fallback, and the counters add up."""

from __future__ import annotations

import io
import json
import random

import boto3
from botocore.awsrequest import AWSResponse

from lib.logging.cloudwatch import CloudwatchLogs


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **kwargs):
        yield self._data


def test_twenty_percent_throttling_loses_and_duplicates_nothing(moto_server):
    fallback = io.StringIO()
    sink = CloudwatchLogs(
        region="eu-west-1",
        log_group_name="/faults/throttle",
        log_stream_name="s",
        endpoint_url=moto_server.endpoint_url,
        flush_interval=0,
        batch_size=50,
        botocore_max_attempts=1,
        max_attempts=4,
        backoff_multiplier=0.001,
        fallback=fallback,
    )
    sink.create_log_group()
    sink.create_log_stream()
    chance = random.Random(20)
    throttled = []

    def maybe_throttle(request, **kwargs):
        if chance.random() < 0.2:
            throttled.append(1)
            return AWSResponse(
                request.url, 400,
                {"x-amzn-ErrorType": "ThrottlingException", "Content-Type": "application/json"},
                _Body(b'{"__type":"ThrottlingException","message":"Rate exceeded"}'),
            )  # fmt: skip
        return None

    sink.client.meta.events.register("before-send.cloudwatch-logs.PutLogEvents", maybe_throttle)
    messages = [f"event-{i}" for i in range(2000)]
    for message in messages:
        sink.enqueue(message)
    sink.close()

    client = boto3.client("logs", endpoint_url=moto_server.endpoint_url, region_name="eu-west-1")
    delivered, token = [], None
    while True:
        arguments = {
            "logGroupName": "/faults/throttle",
            "logStreamName": "s",
            "startFromHead": True,
        }
        if token:
            arguments["nextToken"] = token
        page = client.get_log_events(**arguments)
        delivered += [event["message"] for event in page["events"]]
        if not page["events"] or page["nextForwardToken"] == token:
            break
        token = page["nextForwardToken"]
    in_fallback = [json.loads(line)["message"] for line in fallback.getvalue().splitlines()]

    assert throttled, "the hook must have throttled some calls"
    assert len(delivered) == len(set(delivered))  # no duplicates
    assert sorted(delivered + in_fallback) == sorted(messages)  # exactly once, somewhere
    figures = sink.snapshot()
    assert figures["enqueued"] == figures["sent"] + figures["to_fallback"] + figures["dropped"]
    assert figures["pending"] == 0
    assert figures["throttled"] == len(throttled)
