"""The batched CloudWatch Logs sink against a real moto server (and Stubber where moto differs)."""

from __future__ import annotations

import json
import logging
import os
import pickle
import threading
import time

import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.logging import Logger
from lib.logging.cloudwatch import (
    EVENT_OVERHEAD_BYTES,
    CloudwatchLogs,
    LogEvent,
    _events_serialised_by_json,
    event_size,
    plan_batches,
    split_message,
)
from tests.lib.logging import GROUP, in_threads


def count_puts(sink: CloudwatchLogs) -> list[int]:
    """Event counts of every PutLogEvents request the sink's client sends."""
    sizes: list[int] = []
    sink.client.meta.events.register(
        "provide-client-params.cloudwatch-logs.PutLogEvents",
        lambda params, **kwargs: sizes.append(len(params["logEvents"])),
    )
    return sizes


def stored_messages(logs_client, stream: str) -> list[str]:
    messages: list[str] = []
    token = None
    while True:
        arguments = {"logGroupName": GROUP, "logStreamName": stream, "startFromHead": True}
        if token:
            arguments["nextToken"] = token
        page = logs_client.get_log_events(**arguments)
        messages.extend(event["message"] for event in page["events"])
        if not page["events"] or page["nextForwardToken"] == token:
            return messages
        token = page["nextForwardToken"]


def now_ms() -> int:
    return int(time.time() * 1000)


def fallback_lines(sink: CloudwatchLogs) -> list[dict]:
    """The undelivered events (not the operator's lines, not the closing summary)."""
    lines = [json.loads(line) for line in sink._fallback.getvalue().splitlines()
             if line.startswith("{")]  # fmt: skip
    return [line for line in lines if "fallback" in line]


# ------------------------------------------------------------------ pure batching rules


def test_split_message_cuts_between_utf8_characters_and_reassembles():
    message = "a" * 100 + "€" * 50 + "z"  # € is 3 bytes
    pieces = split_message(message, max_event_bytes=EVENT_OVERHEAD_BYTES + 101)
    assert "".join(pieces) == message
    assert all(event_size(piece) <= EVENT_OVERHEAD_BYTES + 101 for piece in pieces)
    assert pieces[0] == "a" * 100  # the € starting at byte 100 would not fit whole
    assert split_message("") == [" "]


def test_plan_batches_sorts_stably_and_respects_span():
    base = now_ms()
    events = [
        LogEvent(base + 5, 0, "c", event_size("c")),
        LogEvent(base, 1, "a", event_size("a")),
        LogEvent(base + 5, 2, "d", event_size("d")),
        LogEvent(base + 30 * 3600 * 1000, 3, "late", event_size("late")),
    ]
    batches = plan_batches(events)
    assert [[e.message for e in batch] for batch in batches] == [["a", "c", "d"], ["late"]]


def batches_one_event_at_a_time(events, max_events, max_bytes, max_span_ms):
    """The rule plan_batches follows, as a loop over the events: an event joins the batch
    unless that would break a limit; the first event of a batch always goes."""
    batches, current, current_bytes, first = [], [], 0, 0
    for event in sorted(events, key=lambda event: (event.timestamp, event.seq)):
        if current and (
            len(current) >= max_events
            or current_bytes + event.size > max_bytes
            or event.timestamp - first > max_span_ms
        ):
            batches.append(current)
            current, current_bytes = [], 0
        if not current:
            first = event.timestamp
        current.append(event)
        current_bytes += event.size
    return [*batches, current] if current else batches


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 50), st.sampled_from((27, 30, 60, 400))), max_size=60),
    st.integers(1, 8),
    st.sampled_from((27, 57, 60, 90, 120, 1200)),  # sums of the sizes hit the limit exactly
    st.integers(0, 30),
)
def test_plan_batches_cuts_where_a_loop_over_the_events_would(
    drafts, max_events, max_bytes, max_span_ms
):
    # sizes may exceed max_bytes (such an event goes alone); times repeat and go backwards
    events = [LogEvent(time, seq, f"m{seq}", size) for seq, (time, size) in enumerate(drafts)]
    planned = plan_batches(events, max_events, max_bytes, max_span_ms)
    assert planned == batches_one_event_at_a_time(events, max_events, max_bytes, max_span_ms)
    assert [event for batch in planned for event in batch] == sorted(
        events, key=lambda event: (event.timestamp, event.seq)
    )


# ------------------------------------------------------------------ against moto


def test_exactly_10000_events_is_one_call_and_10001_is_two(make_sink, logs_client):
    sink = make_sink()
    puts = count_puts(sink)
    for index in range(10_000):
        sink.enqueue(f"event {index}")
    sink.flush()
    assert puts == [10_000]

    second = make_sink()
    puts_second = count_puts(second)
    for index in range(10_001):
        second.enqueue(f"event {index}")
    second.flush()
    assert puts_second == [10_000, 1]
    assert second.snapshot()["sent"] == 10_001
    assert len(stored_messages(logs_client, second.log_stream_name)) == 10_001


def test_batch_bytes_limit_counts_utf8_bytes_plus_26(make_sink):
    # 16 events of 32,755 x "é" (65,510 bytes) + 26 = 1,048,576 bytes exactly
    message = "é" * 32_755
    assert event_size(message) * 16 == 1_048_576
    sink = make_sink()
    puts = count_puts(sink)
    for _ in range(16):
        sink.enqueue(message)
    sink.flush()
    assert puts == [16]

    over = make_sink()
    puts_over = count_puts(over)
    for index in range(16):
        over.enqueue(message + ("a" if index == 15 else ""))
    over.flush()
    assert puts_over == [15, 1]
    assert over.snapshot()["bytes_sent"] == 1_048_577


def test_unsorted_input_arrives_sorted(make_sink, logs_client):
    sink = make_sink()
    sent_order = []
    sink.client.meta.events.register(
        "provide-client-params.cloudwatch-logs.PutLogEvents",
        lambda params, **kwargs: sent_order.extend(e["timestamp"] for e in params["logEvents"]),
    )
    base = now_ms() - 60_000
    for offset, text in [(30, "third"), (10, "first"), (20, "second-a"), (20, "second-b")]:
        sink.enqueue(text, base + offset)
    sink.flush()
    assert sent_order == sorted(sent_order)
    assert stored_messages(logs_client, sink.log_stream_name) == [
        "first",
        "second-a",
        "second-b",
        "third",
    ]


def test_a_30_hour_spread_is_split_into_two_calls(make_sink, logs_client):
    sink = make_sink()
    puts = count_puts(sink)
    start = now_ms() - 31 * 3600 * 1000
    sink.enqueue("early", start)
    sink.enqueue("middle", start + 12 * 3600 * 1000)
    sink.enqueue("late", start + 30 * 3600 * 1000)
    sink.flush()
    assert puts == [2, 1]
    assert sorted(stored_messages(logs_client, sink.log_stream_name)) == [
        "early",
        "late",
        "middle",
    ]


def test_oversized_multibyte_message_is_split_and_reassembles(make_sink, logs_client):
    sink = make_sink(max_message_bytes=1026)  # 1,000 bytes of message per event
    message = "x" * 999 + "€" + "y" * 1500  # the € straddles the 1,000-byte cut
    sink.enqueue(message)
    sink.flush()
    stored = stored_messages(logs_client, sink.log_stream_name)
    assert len(stored) == 3
    assert stored[0] == "x" * 999
    assert "".join(stored) == message
    assert sink.snapshot()["split_messages"] == 1


def test_empty_message_is_sent_as_a_space(make_sink, logs_client):
    sink = make_sink()
    sink.enqueue("")
    sink.flush()
    assert stored_messages(logs_client, sink.log_stream_name) == [" "]


def test_rejected_events_go_to_the_fallback_with_their_reason(make_sink):
    """AWS reports rejects with HTTP 200; moto's indexes differ, so this uses Stubber."""
    sink = make_sink(create=False)
    base = now_ms()
    texts = ["expired", "too-old-1", "too-old-2", "ok-1", "ok-2", "too-new"]
    for offset, text in enumerate(texts):
        sink.enqueue(text, base + offset)
    with Stubber(sink.client) as stub:
        stub.add_response(
            "put_log_events",
            {
                "nextSequenceToken": "1",
                "rejectedLogEventsInfo": {
                    "expiredLogEventEndIndex": 1,
                    "tooOldLogEventEndIndex": 3,
                    "tooNewLogEventStartIndex": 5,
                },
            },
        )
        sink.flush()
    figures = sink.snapshot()
    assert figures["sent"] == 2
    assert figures["rejected_expired"] == 1
    assert figures["rejected_too_old"] == 2
    assert figures["rejected_too_new"] == 1
    assert figures["to_fallback"] == 4
    reasons = {line["message"]: line["reason"] for line in fallback_lines(sink)}
    assert reasons == {
        "expired": "rejected_expired",
        "too-old-1": "rejected_too_old",
        "too-old-2": "rejected_too_old",
        "too-new": "rejected_too_new",
    }


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **kwargs):
        yield self._data


def inject_throttling(sink: CloudwatchLogs, should_throttle) -> list[int]:
    """A botocore before-send hook that answers ThrottlingException when told to."""
    calls: list[int] = []

    def hook(request, **kwargs):
        calls.append(1)
        if should_throttle(len(calls)):
            body = b'{"__type":"ThrottlingException","message":"Rate exceeded"}'
            return AWSResponse(
                request.url,
                400,
                {"x-amzn-ErrorType": "ThrottlingException", "Content-Type": "application/json"},
                _Body(body),
            )
        return None

    sink.client.meta.events.register("before-send.cloudwatch-logs.PutLogEvents", hook)
    return calls


def test_throttling_is_retried_and_delivered_without_duplicates(make_sink, logs_client):
    sleeps = []
    sink = make_sink(sleep=sleeps.append, batch_size=100)
    calls = inject_throttling(sink, lambda n: n % 3 != 0)  # 2 of every 3 calls throttled
    messages = [f"m{i}" for i in range(250)]
    for message in messages:
        sink.enqueue(message)
    sink.flush()
    figures = sink.snapshot()
    assert sorted(stored_messages(logs_client, sink.log_stream_name)) == sorted(messages)
    assert figures["sent"] == 250
    assert figures["throttled"] >= 4
    assert figures["retries"] == len(sleeps) >= 4
    assert len(calls) == figures["put_calls"]


def test_endless_throttling_ends_in_the_fallback_within_the_deadline(make_sink):
    clock = {"now": 1_000_000.0}

    def sleep(seconds):
        clock["now"] += seconds

    sink = make_sink(
        sleep=sleep,
        clock=lambda: clock["now"],
        flush_deadline=10.0,
        max_attempts=1000,
        backoff_multiplier=1.0,
        max_backoff=4.0,
    )
    inject_throttling(sink, lambda n: True)
    started = clock["now"]
    for index in range(5):
        sink.enqueue(f"lost? {index}", int(time.time() * 1000))
    sink.flush()
    assert clock["now"] - started <= 10.0
    figures = sink.snapshot()
    assert figures["sent"] == 0
    assert figures["to_fallback"] == 5
    assert {line["reason"] for line in fallback_lines(sink)} == {"gave_up:ThrottlingException"}


def test_missing_stream_is_created_once_and_the_batch_retried(make_sink, logs_client):
    sink = make_sink(create=False)
    sink.create_log_group()
    sink.enqueue("after create")
    sink.flush()
    assert stored_messages(logs_client, sink.log_stream_name) == ["after create"]
    assert sink.snapshot()["streams_created"] == 1


def test_access_denied_stops_calls_and_warns_once(make_sink):
    sink = make_sink(create=False)
    with Stubber(sink.client) as stub:
        stub.add_client_error("put_log_events", "AccessDeniedException", http_status_code=400)
        sink.enqueue("one")
        sink.flush()
        sink.enqueue("two")  # no response queued: a second call would fail the stubber
        sink.flush()
    figures = sink.snapshot()
    assert figures["put_calls"] == 1
    assert figures["to_fallback"] == 2
    output = sink._fallback.getvalue()
    assert output.count("is off (access_denied") == 1


def test_bounded_buffer_sheds_the_oldest_to_the_fallback(make_sink, monkeypatch):
    sink = make_sink(create=False, max_buffer_events=10, flush_interval=60)
    monkeypatch.setattr(sink, "flush", lambda: None)  # CloudWatch stuck: nothing drains
    for index in range(15):
        sink.enqueue(f"e{index}")
    figures = sink.snapshot()
    assert figures["pending"] == 10
    assert figures["to_fallback"] == 5
    shed = fallback_lines(sink)
    assert [line["message"] for line in shed] == [f"e{i}" for i in range(5)]
    assert {line["reason"] for line in shed} == {"buffer_full"}
    monkeypatch.undo()
    sink.close()


def test_flush_interval_sends_in_the_background(make_sink, logs_client):
    sink = make_sink(flush_interval=0.2)
    sink.enqueue("timed")
    deadline = time.time() + 10
    while time.time() < deadline and sink.snapshot()["sent"] == 0:
        time.sleep(0.05)
    assert stored_messages(logs_client, sink.log_stream_name) == ["timed"]
    sink.close()


def test_close_and_with_block_flush_and_later_events_go_to_the_fallback(make_sink, logs_client):
    sink = make_sink(flush_interval=60)
    with sink:
        sink.enqueue("in block")
    assert stored_messages(logs_client, sink.log_stream_name) == ["in block"]
    sink.enqueue("after close")
    assert fallback_lines(sink)[-1]["reason"] == "closed"


def test_eight_threads_of_2000_events_arrive_exactly(make_sink, logs_client):
    sink = make_sink(flush_interval=0.5)
    logger = Logger(loggers=[sink], attach_default_stdout_logger=False)

    def work(thread: int) -> None:
        for index in range(2000):
            logger.info("t%d-%d", thread, index)

    in_threads(work, 8)
    sink.close()
    stored = stored_messages(logs_client, sink.log_stream_name)
    assert len(stored) == 16_000
    assert len({json.loads(m)["message"] for m in stored}) == 16_000
    assert sink.snapshot()["sent"] == 16_000


def test_pickles_as_configuration_only(make_sink, logs_client):
    sink = make_sink()
    sink.enqueue("buffered in the original")
    clone = pickle.loads(pickle.dumps(sink))
    assert clone.snapshot()["enqueued"] == 0
    assert clone.log_stream_name == sink.log_stream_name
    assert clone._client is None  # created lazily where it is used
    clone.enqueue("from the clone")
    clone.flush()
    sink.flush()
    assert sorted(stored_messages(logs_client, sink.log_stream_name)) == [
        "buffered in the original",
        "from the clone",
    ]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_never_resends_the_parent_buffer(make_sink, logs_client):
    sink = make_sink()
    sink.enqueue("parent event")
    pid = os.fork()
    if pid == 0:  # child
        code = 0
        try:
            if sink.snapshot()["enqueued"] != 0:
                code = 3
            sink.enqueue("child event")
            sink.flush()
            if sink.snapshot()["sent"] != 1:
                code = 4
        except BaseException:
            code = 5
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    sink.flush()
    assert sorted(stored_messages(logs_client, sink.log_stream_name)) == [
        "child event",
        "parent event",
    ]


def test_botocore_debug_logging_does_not_recurse(make_sink, logs_client):
    sink = make_sink(flush_interval=0.1)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(sink)
    root.setLevel(logging.DEBUG)
    try:
        logging.getLogger("app").info("hello through the root logger")
        sink.flush()
        time.sleep(0.3)
        sink.flush()
    finally:
        root.removeHandler(sink)
        root.setLevel(old_level)
    stored = [json.loads(m)["message"] for m in stored_messages(logs_client, sink.log_stream_name)]
    assert "hello through the root logger" in stored
    assert not any("botocore" in json.dumps(m) or "Sending http request" in m for m in stored)
    figures = sink.snapshot()
    assert figures["sent"] == len(stored) == 1


def test_what_botocore_no_longer_checks_is_made_right_by_the_sink(make_sink, logs_client):
    sink = make_sink()
    now_ms = time.time() * 1000
    sink.enqueue(b"bytes in", timestamp_ms=now_ms + 0.5)  # bytes and a float, from a caller
    sink.enqueue("text", timestamp_ms=int(now_ms))
    sink.flush()
    events = logs_client.get_log_events(
        logGroupName=GROUP, logStreamName=sink.log_stream_name, startFromHead=True
    )["events"]
    # CloudWatch orders by timestamp: the float may round to the next millisecond
    assert sorted(event["message"] for event in events) == ["bytes in", "text"]
    assert all(isinstance(event["timestamp"], int) for event in events)
    assert sink.snapshot()["sent"] == 2


def test_a_direct_enqueue_never_raises_redacts_and_keeps_the_message(make_sink, logs_client):
    """enqueue() is a log call: a timestamp that is not a finite number of ms costs the
    caller nothing (the current time stands in, said once), and the text is redacted as every
    record's is."""

    class Unprintable:
        def __str__(self):
            raise RuntimeError("no text")

    sink = make_sink()
    before = int(time.time() * 1000)
    bad_times = (float("nan"), float("inf"), -1, 2**63, "1796320635545", True, [1])
    for bad in bad_times:
        sink.enqueue(f"password=hunter2-{bad!r} at a bad time", timestamp_ms=bad)
    sink.enqueue("Authorization: Bearer abcdefghijklmnop", timestamp_ms=before)
    sink.enqueue(Unprintable())
    sink.flush()
    events = logs_client.get_log_events(
        logGroupName=GROUP, logStreamName=sink.log_stream_name, startFromHead=True
    )["events"]
    assert len(events) == len(bad_times) + 2 == sink.snapshot()["sent"]
    assert all(event["timestamp"] >= before for event in events)
    assert not any("hunter2" in e["message"] or "abcdefghijklmnop" in e["message"] for e in events)
    assert sum("at a bad time" in event["message"] for event in events) == len(bad_times)
    assert "<unprintable Unprintable: RuntimeError>" in [event["message"] for event in events]
    said = [line for line in sink._fallback.getvalue().splitlines() if "timestamp_ms" in line]
    assert len(said) == 1 and "current time" in said[0]
    assert sink.failures == 0


def test_request_bodies_are_the_bytes_botocore_serializes(make_sink, logs_client, monkeypatch):
    """The sink's client writes the events into the body with json.dumps (issue 15): the
    signed request holds, byte for byte, what botocore's serializer makes of the same call."""
    sink = make_sink()
    sent: list[bytes] = []
    sink.client.meta.events.register(
        "before-send.cloudwatch-logs.PutLogEvents", lambda request, **_: sent.append(request.body)
    )
    serialized_by_botocore: list[int] = []  # the events botocore's serializer gets to walk
    serializer = sink.client._serializer._serializer  # botocore's, inside the sink's wrapper

    class Counting:
        def serialize_to_request(self, parameters, operation_model):
            serialized_by_botocore.append(len(parameters.get("logEvents", [])))
            return serializer.serialize_to_request(parameters, operation_model)

    monkeypatch.setattr(sink.client._serializer, "_serializer", Counting())
    messages = ["plain", 'a "quote", a \\ backslash', "two\nlines\ttab", "ünïcödé €", "😀",
                "{\"json\": [1, 2]}", "\u2028", os.fsdecode(b"\xff.csv")]  # fmt: skip
    for message in messages:
        sink.enqueue(message)
    sink.flush()
    assert len(sent) == 1
    assert serialized_by_botocore == [0]
    body = json.loads(sent[0])
    assert [event["message"] for event in body["logEvents"]][:-1] == messages[:-1]
    assert stored_messages(logs_client, sink.log_stream_name)[:-1] == messages[:-1]
    assert sink.snapshot()["sent"] == len(messages)

    replayed: list[bytes] = []
    logs_client.meta.events.register(
        "before-send.cloudwatch-logs.PutLogEvents",
        lambda request, **_: replayed.append(request.body),
    )
    logs_client.put_log_events(**body)  # botocore's own serializer (and parameter check)
    assert replayed == sent


def mask_parameters(params, **_):
    for item in params.get("logEvents", []):
        item["message"] = item["message"].replace("hunter2", "****")


def mask_body(params, **_):
    params["body"] = params["body"].replace(b"hunter2", b"****")


@pytest.mark.parametrize(
    ("event", "handler", "register"),
    [
        ("before-parameter-build.cloudwatch-logs.PutLogEvents", mask_parameters, "register"),
        ("before-parameter-build", mask_parameters, "register_last"),
        ("before-call.cloudwatch-logs.*", mask_body, "register"),
        ("before-call.*.*", mask_body, "register_first"),
    ],
)
def test_handlers_on_the_sinks_client_still_see_and_change_the_events(
    make_sink, logs_client, event, handler, register
):
    """A user's hook on the sink's client (here one that masks a value), whatever its event
    name and place, sees the events that the sink's serializer writes by json.dumps, in the
    parameters and in the body; wrapping the serializer twice is harmless."""
    sink = make_sink()
    getattr(sink.client.meta.events, register)(event, handler)
    _events_serialised_by_json(sink.client)  # a second call changes nothing
    sink.enqueue("customer hunter2")  # not secret-looking: the sink's redactor leaves it
    sink.enqueue("plain")
    sink.flush()
    assert stored_messages(logs_client, sink.log_stream_name) == ["customer ****", "plain"]
    assert sink.snapshot()["sent"] == 2


def test_retention_days_must_be_a_value_cloudwatch_accepts(make_sink, logs_client):
    sink = make_sink(create=False)
    with pytest.raises(ValueError, match="retention_days=10"):
        sink.create_log_group(retention_days=10)
    assert sink.create_log_group(retention_days=30, tags={"project": "p"}) is True
    assert sink.create_log_group() is False
    with pytest.raises(Exception, match="ResourceAlreadyExists"):
        sink.create_log_group(raise_if_exists=True)
    group = logs_client.describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"][0]
    assert group["retentionInDays"] == 30


def test_a_message_with_a_lone_surrogate_is_delivered_not_lost(make_sink, logs_client):
    """An undecodable file name (os.fsdecode(b"\\xff.csv")) holds a lone surrogate."""
    sink = make_sink()
    name = os.fsdecode(b"\xff.csv")
    sink.enqueue(f"skipped {name}")
    Logger(loggers=[sink]).warning("bad file %s", name)
    sink.flush()
    stored = stored_messages(logs_client, sink.log_stream_name)
    assert stored[0] == "skipped \\udcff.csv"
    assert json.loads(stored[1])["message"] == f"bad file {name}"  # JSON escapes it exactly
    assert sink.snapshot()["sent"] == 2
    assert sink.failures == 0


def test_an_event_logged_while_close_flushes_is_not_left_in_the_buffer(make_sink, logs_client):
    sink = make_sink()
    sink.enqueue("before close")
    late: list[threading.Thread] = []

    def log_from_another_thread(**kwargs):
        if not late:
            thread = threading.Thread(target=sink.enqueue, args=("during close",))
            late.append(thread)
            thread.start()
            thread.join()

    sink.client.meta.events.register(
        "before-call.cloudwatch-logs.PutLogEvents", log_from_another_thread
    )
    sink.close()
    figures = sink.snapshot()
    assert figures["pending"] == 0, figures
    delivered = stored_messages(logs_client, sink.log_stream_name)
    in_fallback = [line["message"] for line in fallback_lines(sink)]
    assert sorted(delivered + in_fallback) == ["before close", "during close"]
