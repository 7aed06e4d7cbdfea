"""A batched CloudWatch Logs sink that loses nothing silently; usable on Spark executors.

    sink = CloudwatchLogs(region="eu-west-1", log_group_name="/datalake-etl/dev",
                          log_stream_name="my-job/driver", log_level="INFO")
    sink.create_log_group(retention_days=30, tags={"project": "datalake-etl"})
    logger = Logger(loggers=[sink])
    ...
    sink.close()                        # or `with sink:`; logging.shutdown() also flushes it

PutLogEvents as the service defines it today (no sequence tokens; several writers may share a
stream): a batch holds 1..10,000 events and at most 1,048,576 bytes, counted as UTF-8 bytes + 26
per event; its events are in time order (ties keep insertion order) and span at most 24 hours.
Events more than 2 h in the future, more than 14 days old or older than the retention are
rejected with HTTP 200 and ``rejectedLogEventsInfo``; those go to the fallback with the reason.

* The sink is a logger too (``sink.info("message")``, see BaseLogger) and a logging.Handler.
* Buffering: a full batch (`batch_size` events, or the byte limit) is sent at once, by a
  background thread; a partial batch waits until its oldest event is older than
  `flush_interval`, or for ``flush()``/``close()``/leaving a ``with`` block/the end of an
  executor task (see lib.logging.executor)/the process's exit (``logging.shutdown``). The
  logging call itself only formats and appends (with ``flush_interval=0`` there is no thread:
  the caller sends each full batch itself; ``use_batches=False`` sends every message in the
  call). The buffer is bounded (`max_buffer_events`,
  `max_buffer_bytes`): past the cap the caller flushes, and what still does not fit goes to the
  fallback with reason ``buffer_full``.
* Messages over `max_message_bytes` (256 KiB by default, overhead included) are split at UTF-8
  character boundaries; empty messages are sent as one space.
* Time: every flush has a deadline (`flush_deadline`), and an attempt that could not finish
  before it is never started. Each PutLogEvents attempt gets a quarter of the deadline at most
  (connect and read time-outs: `connect_timeout`/`read_timeout`, capped by that budget);
  botocore does not retry on its own (the sink does).
* Failures: throttling and 5xx are retried with full-jitter backoff until `max_attempts` or the
  deadline; a missing stream (or group: created with `retention_days` and `tags`) is created
  once and the batch retried. An endpoint that times out, refuses connections or keeps failing
  trips a per-process breaker keyed by endpoint: for `breaker_seconds` every sink of the
  process on that endpoint writes straight to the fallback (reason ``endpoint_unavailable:…``)
  instead of paying the time-out again, then one batch probes it. Expired or unrecognised
  credentials drop the client (the next one reads refreshed credentials) and pause the sink
  for `breaker_seconds`; access denied stops all calls of the sink and warns once. A group or
  stream name CloudWatch would refuse turns the sink off when it is made (reason
  ``invalid_name``, one warning per sink): logging never fails the job. The client skips
  botocore's parameter check; the sink builds every request itself (text, integer timestamps,
  limits), and the events go into the request body by ``json.dumps``, not botocore's
  serializer (the same bytes, in a third of the time on the sending thread).
* Nothing is lost silently: undeliverable events are written to the fallback (JSON lines on
  stderr, with the reason). ``snapshot()`` counters always satisfy
  ``enqueued == sent + to_fallback + dropped + pending``.
* Thread-safe (the buffer has its own lock: a logging call does not take the handler's lock);
  fork-safe (a child process starts empty: it never re-sends its parent's buffer);
  picklable as configuration only (the boto3 client is created lazily in the process using it),
  and every unpickle of the same configuration in a process returns the same sink (one flusher
  thread per process, however many tasks deserialise it).
* Exit: a sink holding events stays referenced until it is closed, and is closed at the
  process's exit (``atexit``, and the exit of a ``multiprocessing`` child, which skips atexit).
* Records that botocore itself logs while this sink is sending are ignored (no recursion when a
  user turns on botocore DEBUG logging with this sink attached to the root logger).
"""

from __future__ import annotations

import atexit
import bisect
import functools
import itertools
import json
import logging
import numbers
import operator
import os
import random
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import IO, Any, NamedTuple

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    HTTPClientError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ReadTimeoutError,
)
from botocore.exceptions import ConnectionError as BotocoreConnectionError
from botocore.validate import ParamValidationDecorator

from lib.aws.client import new_client
from lib.aws.errors import (
    ACCESS_DENIED_CODES,
    CREDENTIAL_CODES,
    THROTTLING_CODES,
    TRANSIENT_CODES,
    error_code,
)
from lib.aws.limits import check_retention_days
from lib.logging.base import (
    REDACTED_ATTR,
    BaseLogger,
    JsonFormatter,
    PerProcess,
    start_thread_once,
    utf8_safe,
    warn_stderr,
)
from lib.logging.shipper import ShipperLink, plain
from lib.redact import one_line

MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD_BYTES = 26
MAX_EVENT_BYTES = 262_144
MIN_EVENT_BYTES = EVENT_OVERHEAD_BYTES + 4  # room for any one character
MAX_BATCH_SPAN_MS = 24 * 3600 * 1000
DELIVERIES = ("thread", "process")
_NOT_PLAIN = object()  # no formatter is this one
SHIPPER_GRACE = 5.0  # seconds a shipper gets past the flush deadline (its start included)
# CloudWatch Logs' rules for the names (botocore checks neither pattern nor maximum length)
LOG_GROUP_NAME = re.compile(r"[.\-_/#A-Za-z0-9]{1,512}")
LOG_STREAM_NAME = re.compile(r"[^:*]{1,512}")


def name_problem(log_group_name: Any, log_stream_name: Any) -> str | None:
    """Why CloudWatch Logs would refuse these names, or None."""
    if not isinstance(log_group_name, str) or not LOG_GROUP_NAME.fullmatch(log_group_name):
        return (
            f"log_group_name {log_group_name!r}: CloudWatch takes 1-512 characters of "
            "A-Z a-z 0-9 . - _ / #"
        )
    if not isinstance(log_stream_name, str) or not LOG_STREAM_NAME.fullmatch(log_stream_name):
        return f"log_stream_name {log_stream_name!r}: CloudWatch takes 1-512 characters, no : or *"
    return None


def _tag_strings(tags: Mapping[Any, Any]) -> dict[str, str]:
    """Tags as CloudWatch takes them (the client does not check them: see `client`); a value
    from YAML may be a number."""
    return {str(key): str(value) for key, value in tags.items()}


# connection-type failures: the endpoint did not answer (refused, reset, timed out)
CONNECTION_ERRORS = (BotocoreConnectionError, HTTPClientError, ConnectionError)
TIMEOUT_ERRORS = (ConnectTimeoutError, ReadTimeoutError, TimeoutError)
CONNECTION_ATTEMPTS = 3  # a refused or reset connection: then the breaker decides


def _events_serialised_by_json(client: Any) -> None:
    """PutLogEvents requests of `client` get their events written by ``json.dumps`` instead of
    by botocore's serializer, which walks every event's shape in Python on the sending thread:
    3.6 µs against 1.2 µs per 200-byte event (botocore 1.44, this project's bench machine),
    and that thread shares the interpreter with the logging calls (issue 15).

    The client's serializer is wrapped (botocore's ``client._serializer``: no public hook sits
    between the last ``before-parameter-build`` handler and the first ``before-call`` one, so
    every handler of the client still sees the events in the parameters and the whole body).
    For a client without botocore's parameter check (the sink's) speaking JSON; any other is
    left as it is, and so is a client already wrapped."""
    serializer = getattr(client, "_serializer", None)
    service = client.meta.service_model
    if (
        serializer is None
        # already wrapped, or botocore's check would refuse the empty list the wrapper passes
        or isinstance(serializer, _EventsByJson | ParamValidationDecorator)
        or (getattr(service, "resolved_protocol", None) or service.protocol) != "json"
    ):
        return
    client._serializer = _EventsByJson(serializer)


class _EventsByJson:
    """botocore's JSON serializer, with PutLogEvents' events written by ``json.dumps`` (as
    botocore's serializer writes its body: the same bytes)."""

    def __init__(self, serializer: Any) -> None:
        self._serializer = serializer

    def serialize_to_request(self, parameters: Mapping[str, Any], operation_model: Any) -> Any:
        events = parameters.get("logEvents")
        if operation_model.name != "PutLogEvents" or not isinstance(events, list):
            return self._serializer.serialize_to_request(parameters, operation_model)
        request = self._serializer.serialize_to_request(
            {**parameters, "logEvents": []}, operation_model
        )
        body = json.loads(request["body"])
        body["logEvents"] = events
        request["body"] = json.dumps(body).encode("utf-8")
        return request


class AttemptOverBudget(TimeoutError):
    """An attempt still running at the end of its budget (an endpoint trickling its answer)."""


class EndpointUnavailable(ConnectionError):
    """The endpoint's breaker is open: calls are not even tried until it closes."""


class EndpointBreaker:
    """Per process and endpoint: after a give-up, callers skip the endpoint for a while."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open_until = 0.0
        self.reason: str | None = None
        self.trips = 0

    def blocked(self, now: float) -> str | None:
        with self._lock:
            return self.reason if now < self._open_until else None

    def trip(self, reason: str, now: float, seconds: float) -> bool:
        """Open for `seconds`; True when it was closed before (the caller warns once)."""
        with self._lock:
            was_closed = now >= self._open_until
            self._open_until = now + seconds
            self.reason = reason
            self.trips += 1
            return was_closed

    def reset(self) -> None:
        with self._lock:
            self._open_until = 0.0
            self.reason = None


# Per-process state by design (each is rebuilt in a forked child, see PerProcess):
_BREAKERS = PerProcess()  # endpoint -> EndpointBreaker
_UNPICKLED_SINKS = PerProcess()  # configuration -> the one sink unpickles return
_OPEN_SINKS = PerProcess()  # id -> sink holding events, closed at exit
_EXIT_HOOKS = PerProcess()  # "registered" -> True once the exit hooks are in this process


class _ThisProcess:
    """This process's id, kept by a fork hook: the logging call compares it with the one a sink
    started in instead of asking the system (os.getpid) every time."""

    pid = os.getpid()

    @classmethod
    def forked(cls) -> None:
        cls.pid = os.getpid()


if hasattr(os, "register_at_fork"):  # without it (Windows) there is no fork either
    os.register_at_fork(after_in_child=_ThisProcess.forked)


def endpoint_breaker(endpoint: str) -> EndpointBreaker:
    return _BREAKERS.get(endpoint, EndpointBreaker)


def close_open_sinks() -> None:
    """Close (flush) every sink of this process that still holds events; the exit hook."""
    for sink in _OPEN_SINKS.values():
        try:
            sink.close()
        except Exception as error:
            warn_stderr(f"CloudWatch Logs sink could not be closed at exit: {error!r}")


def _hook_exit() -> None:
    def register() -> bool:
        atexit.register(close_open_sinks)
        try:  # a multiprocessing child ends with os._exit after running its finalizers
            import multiprocessing.util

            multiprocessing.util.Finalize(None, close_open_sinks, exitpriority=100)
        except Exception as error:
            warn_stderr(f"CloudWatch Logs sinks are not flushed at a child's exit: {error!r}")
        return True

    _EXIT_HOOKS.get("registered", register)


class LogEvent(NamedTuple):  # immutable, and cheaper to make than a frozen dataclass
    timestamp: int  # ms since the epoch
    seq: int  # insertion order, to keep ties stable
    message: str
    size: int  # UTF-8 bytes + 26


# LogEvent(*fields) without the Python-level __new__ of a NamedTuple: the logging call's path
_new_event = functools.partial(tuple.__new__, LogEvent)
_TIME_ORDER = operator.itemgetter(0, 1)  # (timestamp, seq)
_TIMESTAMP = operator.itemgetter(0)
_SEQ = operator.itemgetter(1)
_SIZE = operator.itemgetter(3)


def event_size(message: str) -> int:
    if message.isascii():  # one byte per character
        return len(message) + EVENT_OVERHEAD_BYTES
    return len(message.encode("utf-8")) + EVENT_OVERHEAD_BYTES


def split_message(message: str, max_event_bytes: int = MAX_EVENT_BYTES) -> list[str]:
    """Pieces of at most `max_event_bytes` (overhead included), cut between UTF-8 characters."""
    if not message:
        return [" "]
    limit = max_event_bytes - EVENT_OVERHEAD_BYTES
    if max_event_bytes < MIN_EVENT_BYTES:
        raise ValueError("max_event_bytes is too small to hold a character")
    try:
        data = message.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (an undecodable file name): keep it visible
        message = utf8_safe(message)
        data = message.encode("utf-8")
    if len(data) <= limit:
        return [message]
    pieces = []
    start = 0
    while start < len(data):
        end = min(start + limit, len(data))
        # step back off continuation bytes (10xxxxxx) so we cut before a character starts
        while end < len(data) and (data[end] & 0xC0) == 0x80:
            end -= 1
        pieces.append(data[start:end].decode("utf-8"))
        start = end
    return pieces


def plan_batches(
    events: Iterable[LogEvent],
    max_events: int = MAX_BATCH_EVENTS,
    max_bytes: int = MAX_BATCH_BYTES,
    max_span_ms: int = MAX_BATCH_SPAN_MS,
) -> list[list[LogEvent]]:
    """Sort by time (stable) and cut into batches within the count, byte and 24 h limits.

    Each batch takes the most events that fit all three from its first one (at least that
    one): the cuts are found by bisection over the running byte total and the times, and the
    per-event work (sizes, times, slices) runs in C, not in a Python loop (issue 15: 0.26 ->
    0.18 µs per event for 100,000 events, on the interpreter the logging calls share)."""
    ordered = sorted(events, key=_TIME_ORDER)
    ends = list(itertools.accumulate(map(_SIZE, ordered)))  # bytes up to each event
    times = list(map(_TIMESTAMP, ordered))
    batches: list[list[LogEvent]] = []
    start = 0
    while start < len(ordered):
        before = ends[start - 1] if start else 0
        stop = min(
            start + max_events,
            bisect.bisect_right(ends, before + max_bytes, start),
            bisect.bisect_right(times, times[start] + max_span_ms, start),
        )
        stop = max(stop, start + 1)  # one event goes alone, whatever its size
        batches.append(ordered[start:stop])
        start = stop
    return batches


_NUMBERS = (numbers.Real, Decimal)  # what a timestamp may be given as


def _as_text(message: Any) -> str:
    if isinstance(message, str):
        return message
    try:
        if isinstance(message, bytes | bytearray | memoryview):
            return bytes(message).decode("utf-8", "replace")
        return str(message)
    except Exception as error:  # a __str__ that raises: something still reaches the log
        return f"<unprintable {type(message).__name__}: {type(error).__name__}>"


def _bytes(events: list[LogEvent]) -> int:
    return sum(map(_SIZE, events))


class CloudwatchLogs(BaseLogger):
    """The sink (a logging.Handler). See the module documentation for its guarantees."""

    def __init__(
        self,
        region: str | None = None,
        log_group_name: str = "",
        log_stream_name: str = "",
        log_level: str | int = "INFO",
        use_batches: bool = True,
        batch_size: int = MAX_BATCH_EVENTS,
        max_batch_bytes: int = MAX_BATCH_BYTES,
        max_message_bytes: int = MAX_EVENT_BYTES,
        flush_interval: float = 5.0,
        max_buffer_events: int = 200_000,
        max_buffer_bytes: int = 32 * 1024 * 1024,
        max_attempts: int = 8,
        backoff_multiplier: float = 0.1,
        max_backoff: float = 5.0,
        flush_deadline: float = 30.0,
        botocore_max_attempts: int = 1,
        endpoint_url: str | None = None,
        profile: str | None = None,
        fallback: IO[str] | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
        breaker_seconds: float = 60.0,
        retention_days: int | None = None,
        tags: Mapping[str, str] | None = None,
        delivery: str = "thread",
    ) -> None:
        # the arguments as given, before any local variable exists: what a pickle carries
        arguments = dict(locals())
        _check_int("batch_size", batch_size, 1, None)
        batch_size = min(batch_size, MAX_BATCH_EVENTS)  # the service's limit caps it
        _check_int("max_batch_bytes", max_batch_bytes, EVENT_OVERHEAD_BYTES + 1, MAX_BATCH_BYTES)
        _check_int("max_attempts", max_attempts, 1, None)
        _check_int("botocore_max_attempts", botocore_max_attempts, 1, None)
        for name, value, low in (
            ("flush_deadline", flush_deadline, 0),
            ("connect_timeout", connect_timeout, 0),
            ("read_timeout", read_timeout, 0),
            ("flush_interval", flush_interval, None),
            ("backoff_multiplier", backoff_multiplier, None),
            ("max_backoff", max_backoff, None),
            ("breaker_seconds", breaker_seconds, None),
        ):
            number = not isinstance(value, bool) and isinstance(value, int | float)
            if not number or value < 0 or (low is not None and value <= low):
                bound = "> 0" if low is not None else ">= 0"
                raise ValueError(f"{name} must be a number of seconds {bound}, got {value!r}")
        check_retention_days(retention_days)
        if delivery not in DELIVERIES:
            raise ValueError(f"delivery must be one of {DELIVERIES}, got {delivery!r}")
        if delivery == "process" and (
            clock is not time.time or sleep is not time.sleep or not use_batches
        ):
            raise ValueError(
                "delivery='process' sends from a child process: it takes neither a clock nor a "
                "sleep of the caller's, and batches (use_batches=False sends in the call: "
                "delivery='thread')"
            )
        super().__init__(log_stream_name, log_level, JsonFormatter())
        self._config = {
            key: value
            for key, value in arguments.items()
            if key not in ("self", "__class__", "fallback")
        }
        self.region = region
        self.log_group_name = log_group_name
        self.log_stream_name = log_stream_name
        self.use_batches = use_batches
        self.batch_size = batch_size
        self.max_batch_bytes = min(max_batch_bytes, MAX_BATCH_BYTES)
        self.max_message_bytes = min(max_message_bytes, self.max_batch_bytes)
        self.flush_interval = flush_interval
        self.max_buffer_events = max_buffer_events
        self.max_buffer_bytes = max_buffer_bytes
        self.max_attempts = max_attempts
        self.backoff_multiplier = backoff_multiplier
        self.max_backoff = max_backoff
        self.flush_deadline = flush_deadline
        self.botocore_max_attempts = botocore_max_attempts
        self.endpoint_url = endpoint_url
        self.profile = profile
        # one attempt never takes more than a quarter of a flush's deadline
        self.attempt_budget = flush_deadline / 4
        self.connect_timeout = min(connect_timeout, self.attempt_budget / 2)
        self.read_timeout = min(read_timeout, self.attempt_budget - self.connect_timeout)
        self.breaker_seconds = breaker_seconds
        self.retention_days = retention_days
        self.tags = _tag_strings(tags or {})
        self.endpoint = endpoint_url or f"logs.{region or 'default'}"
        self.delivery = delivery
        self._fallback = fallback
        self._clock = clock
        self._sleep = sleep
        self._bad_timestamp_said = False
        # names CloudWatch would refuse: every event goes to the fallback (logging never
        # fails the job; a run id with a colon, say, must not stop it), from this process
        self._invalid_names = name_problem(log_group_name, log_stream_name)
        self._start_process_state()
        if self._invalid_names:
            self._warn(f"CloudWatch Logs sink is off ({self._invalid_names}); events go to the "
                       "fallback on stderr")  # fmt: skip

    # ------------------------------------------------------------------ process state

    def _start_process_state(self) -> None:
        """Everything that must not cross a fork or a pickle: locks, buffer, client, thread."""
        self._pid = _ThisProcess.pid
        self._lock = threading.Lock()
        self._send_lock = threading.RLock()
        self._local = _ThreadState()
        self._buffer: list[LogEvent] = []
        self._buffer_bytes = 0
        self._seq = 0
        # events out of the buffer and not yet sent or in the fallback: a holder (a flush, a
        # shedding) -> the lowest sequence number it holds (see oldest_undone_seq)
        self._held: dict[object, int] = {}
        self._client: Any = None
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._stopping = False
        self._closed = False
        self._registered = False
        self._disabled: str | None = None
        self._paused_until = 0.0
        self._paused_reason: str | None = None
        self._counters = dict.fromkeys(
            (
                "enqueued",
                "sent",
                "to_fallback",
                "dropped",
                "in_flight",
                "bytes_sent",
                "put_calls",
                "retries",
                "throttled",
                "rejected_too_old",
                "rejected_too_new",
                "rejected_expired",
                "split_messages",
                "streams_created",
                "breaker_skips",
                "credential_refreshes",
            ),
            0,
        )

        # delivery="process": the shipper's link (the logging call appends to its queue)
        self._link: ShipperLink | None = None
        if self.delivery == "process" and not self._invalid_names:
            self._link = ShipperLink(
                {
                    **{k: v for k, v in self._config.items() if k not in ("clock", "sleep")},
                    "delivery": "thread",  # the shipper's own sink sends from its thread
                },
                write_fallback=self._write_fallback_from_shipper,
                redactor=lambda: self.redactor,
                max_events=self.max_buffer_events,
                max_bytes=self.max_buffer_bytes,
                name=f"{self.log_group_name}/{self.log_stream_name}",
                # the shipper's snapshot's: in_flight is in its pending
                counter_names=(
                    *(name for name in self._counters if name != "in_flight"),
                    "pending",
                    "buffered_bytes",
                ),
            )

    def _check_process(self) -> None:
        if self._pid != _ThisProcess.pid:
            self._start_process_state()  # a forked child: start empty, never re-send

    def __reduce__(self):
        return (_rebuild_cloudwatch_logs, (dict(self._config),))

    def _register_open(self) -> None:
        """Keep this sink referenced (and closed at exit) while it may hold events."""
        if not self._registered:
            self._registered = True
            _hook_exit()
            _OPEN_SINKS.get(id(self), lambda: self)

    # ------------------------------------------------------------------ boto3

    @property
    def client(self) -> Any:
        self._check_process()
        client = self._client  # read once: another thread may drop it (set it to None)
        if client is None:
            client = new_client(
                "logs",
                region=self.region,
                profile=self.profile,
                endpoint_url=self.endpoint_url,
                max_attempts=self.botocore_max_attempts,
                connect_timeout=self.connect_timeout,
                read_timeout=self.read_timeout,
                # the sink builds every request itself (names checked, messages text and
                # non-empty, integer timestamps, batches within CloudWatch's limits):
                # botocore's check walked each event on the sending thread, which shares the
                # interpreter with the logging calls, at 0.7-0.8x the cost of its JSON (issue 15)
                parameter_validation=False,
            )
            _events_serialised_by_json(client)  # before another thread can see the client
            self._client = client
        return client

    def _breaker(self) -> EndpointBreaker:
        return endpoint_breaker(self.endpoint)

    def _guarded_call(self, operation: str, **arguments: Any) -> Any:
        """One set-up call (CreateLogGroup, CreateLogStream, PutRetentionPolicy) through the
        endpoint's breaker: skipped while it is open, and an unanswered call opens it."""
        breaker = self._breaker()
        reason = breaker.blocked(self._clock())
        if reason is not None:
            raise EndpointUnavailable(
                f"CloudWatch Logs at {self.endpoint} is skipped for now ({reason})"
            )
        with self._sending():
            try:
                return self._within_budget(getattr(self.client, operation), **arguments)
            except (*CONNECTION_ERRORS, *TIMEOUT_ERRORS) as error:
                self._trip(f"{type(error).__name__}")
                raise

    def _check_names(self) -> None:
        if self._invalid_names:
            raise ValueError(self._invalid_names)

    def create_log_group(
        self,
        retention_days: int | None = None,
        tags: Mapping[str, str] | None = None,
        raise_if_exists: bool = False,
    ) -> bool:
        """Create the group (True) or find it there (False); set retention when given."""
        check_retention_days(retention_days)
        self._check_names()
        arguments: dict[str, Any] = {"logGroupName": self.log_group_name}
        if tags:
            arguments["tags"] = _tag_strings(tags)
        created = True
        try:
            self._guarded_call("create_log_group", **arguments)
        except ClientError as error:
            if error_code(error) != "ResourceAlreadyExistsException" or raise_if_exists:
                raise
            created = False
        if retention_days is not None:
            self._guarded_call(
                "put_retention_policy",
                logGroupName=self.log_group_name,
                retentionInDays=retention_days,
            )
        return created

    def create_log_stream(self, raise_if_exists: bool = False) -> bool:
        """Create the stream (True) or find it there (False, or an error if asked)."""
        self._check_names()
        try:
            self._guarded_call(
                "create_log_stream",
                logGroupName=self.log_group_name,
                logStreamName=self.log_stream_name,
            )
        except ClientError as error:
            if error_code(error) == "ResourceAlreadyExistsException" and not raise_if_exists:
                return False
            raise
        with self._lock:
            self._counters["streams_created"] += 1
        return True

    # ------------------------------------------------------------------ logging.Handler

    def setFormatter(self, fmt: logging.Formatter | None) -> None:
        super().setFormatter(fmt)
        # process delivery judges the formatter here, not at every call (see handle)
        self._plain_formatter = fmt if self._formats_message_alone(fmt) else _NOT_PLAIN

    def handle(self, record: logging.LogRecord) -> Any:
        # botocore's own records while this thread sends: never loop back into CloudWatch
        if self._local.sending:
            return False
        link = self._link
        if (
            link is not None
            and self.formatter is self._plain_formatter
            and type(record) is logging.LogRecord
            and type(message := record.msg) is str
            and not record.args
            and not record.exc_info
            and not record.exc_text
            and not record.stack_info
            and not self.filters
            and record.levelno not in self._overridden_levels
            and self._pid == _ThisProcess.pid
        ):
            # process delivery, a plain record and a formatter of the message alone (judged
            # when it was set): the line is the message, redacted by the shipper unless a
            # Logger did. About 0.7 µs of a logging call instead of 1.4 (issue 15)
            try:
                link.put(
                    int(record.created * 1000), message, not record.__dict__.get(REDACTED_ATTR)
                )
                if not self._registered:
                    self._register_open()
            except Exception as error:  # as emit: counted, never raised to the caller
                self._count_failure(error)
            return True
        if record.levelno in self._overridden_levels:  # a subclass's own level method
            return super().handle(record)
        # logging.Handler.handle (filter, then emit) without the handler's lock: emit needs
        # none (the buffer has its own lock; a flush, its own), and a log call saves its cost
        if self.filters:
            accepted = self.filter(record)
            if isinstance(accepted, logging.LogRecord):  # Python 3.12+: a filter may replace it
                record = accepted
            if not accepted:
                return accepted
        self.emit(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self._pid != _ThisProcess.pid:
                self._start_process_state()  # a forked child: start empty, never re-send
            link = self._link
            if link is None:
                self._enqueue(self._redacted_line(record), int(record.created * 1000))
                return
            if not self._registered:
                self._register_open()
            message = self._plain_message(record)
            if message is None:  # a formatter may return a str subclass: marshal takes str
                link.put(int(record.created * 1000), plain(self._redacted_line(record)), False)
            else:  # redacted off this call (unless a Logger did), with this sink's redactor
                link.put(
                    int(record.created * 1000), message, not record.__dict__.get(REDACTED_ATTR)
                )
        except Exception as error:
            self._count_failure(error)

    def make_handler(self, message: str) -> None:
        self._enqueue_text(message, None)  # a formatted line, already redacted

    def enqueue(self, message: Any, timestamp_ms: Any = None) -> None:
        """Buffer one message, redacted (split when oversized), for delivery.

        Never raises, as no log call does: a message that is not text is written as text, and
        a timestamp that is not a finite number of ms is replaced by the current time (said
        once on stderr); anything else that fails is counted in ``failures``."""
        try:
            self._enqueue_text(self.redactor.text(_as_text(message)), timestamp_ms)
        except Exception as error:
            self._count_failure(error)

    def _enqueue_text(self, message: Any, timestamp_ms: Any) -> None:
        self._check_process()
        timestamp = self._timestamp(timestamp_ms)
        if self._link is not None:
            if not self._registered:
                self._register_open()
            self._link.put(timestamp, plain(_as_text(message)), False)
            return
        self._enqueue(_as_text(message), timestamp)

    def enqueue_line(self, line: str, timestamp_ms: int) -> None:
        """Buffer a line already redacted, at a timestamp already checked (the shipper's)."""
        self._enqueue(line, timestamp_ms)

    def _timestamp(self, timestamp_ms: Any) -> int:
        if timestamp_ms is None:
            return int(self._clock() * 1000)
        try:
            # a real number (not a bool, not text) of ms in CloudWatch's long: one beyond it
            # would fail a whole request, its neighbours' events with it
            if isinstance(timestamp_ms, bool) or not isinstance(timestamp_ms, _NUMBERS):
                raise TypeError(f"a {type(timestamp_ms).__name__}")
            value = int(timestamp_ms)  # NaN and infinities raise; an int stays exact
            if not 0 <= value < 2**63:  # checked on what is sent, whatever __int__ does
                raise ValueError(f"{timestamp_ms!r}")
            return int.__int__(value)  # a plain int, not a subclass
        except Exception as error:  # whatever the value does, the message is kept
            with self._lock:
                first, self._bad_timestamp_said = not self._bad_timestamp_said, True
            if first:
                detail = one_line(error, 100, redactor=self.redactor)
                self._warn(
                    f"CloudWatch Logs sink for {self.log_group_name}/{self.log_stream_name}: a "
                    f"timestamp_ms that is not a number of ms in [0, 2**63) ({detail}) was "
                    "replaced by the current time (said once)"
                )
            return int(self._clock() * 1000)

    def _enqueue(self, message: str, timestamp: int) -> None:
        if message.isascii():  # one byte per character: no need to encode it to count
            size = len(message) + EVENT_OVERHEAD_BYTES
        else:
            try:
                size = len(message.encode("utf-8")) + EVENT_OVERHEAD_BYTES
            except UnicodeEncodeError:  # a lone surrogate: split_message makes it UTF-8
                self._enqueue_pieces(message, timestamp)
                return
        if not message or size > self.max_message_bytes or self.max_message_bytes < MIN_EVENT_BYTES:
            self._enqueue_pieces(message, timestamp)  # empty, or a split to make
            return
        # the common case, one event (split_message would return the message as it is)
        if not self._registered:
            self._register_open()
        with self._lock:
            self._buffer.append(_new_event((timestamp, self._seq, message, size)))
            self._seq += 1
            self._buffer_bytes += size
            overflow = self._take_if_closed() if self._closed else None
            events, buffered = len(self._buffer), self._buffer_bytes
        self._after_enqueue(overflow, events, buffered)

    def _enqueue_pieces(self, message: str, timestamp: int) -> None:
        pieces = split_message(message, self.max_message_bytes)
        if not self._registered:
            self._register_open()
        with self._lock:
            for piece in pieces:
                size = event_size(piece)
                self._buffer.append(_new_event((timestamp, self._seq, piece, size)))
                self._seq += 1
                self._buffer_bytes += size
            if len(pieces) > 1:
                self._counters["split_messages"] += 1
            overflow = self._take_if_closed()
            events, buffered = len(self._buffer), self._buffer_bytes
        self._after_enqueue(overflow, events, buffered)

    def _take_if_closed(self) -> list[LogEvent] | None:
        """Under the lock: after the last flush of close(), what was just appended is taken
        for the fallback (nothing stays in the buffer of a closed sink)."""
        if not self._closed:
            return None
        overflow, self._buffer, self._buffer_bytes = self._buffer, [], 0
        self._counters["in_flight"] += len(overflow)
        return overflow

    def _after_enqueue(self, overflow: list[LogEvent] | None, events: int, buffered: int) -> None:
        if overflow:
            self._to_fallback(overflow, "closed")
        elif not self.use_batches:
            self.flush()
        elif events > self.max_buffer_events or buffered > self.max_buffer_bytes:
            self.flush()
            self._shed_over_cap()
        elif events >= self.batch_size or buffered >= self.max_batch_bytes:  # a full batch
            if self.flush_interval <= 0:  # no background thread: the caller sends it
                self.flush(complete_only=True)
            elif not self._wake.is_set():  # wake the flusher (once, not on every call)
                self._ensure_thread()
                self._wake.set()
        elif self._thread is None:
            self._ensure_thread()

    def _shed_over_cap(self) -> None:
        holder = object()
        with self._lock:
            shed: list[LogEvent] = []
            while self._buffer and (
                len(self._buffer) > self.max_buffer_events
                or self._buffer_bytes > self.max_buffer_bytes
            ):
                event = self._buffer.pop(0)
                self._buffer_bytes -= event.size
                shed.append(event)
            self._counters["in_flight"] += len(shed)
            if shed and self._tracks_undone:
                self._held[holder] = min(map(_SEQ, shed))
        try:
            if shed:
                self._to_fallback(shed, "buffer_full")
        finally:
            with self._lock:
                self._held.pop(holder, None)

    # ------------------------------------------------------------------ flushing

    def flush(self, complete_only: bool = False) -> None:
        """Send everything buffered now (up to the flush deadline).

        `complete_only`: send the full batches (`batch_size` events or the byte limit) and
        leave the rest in the buffer, as the background flusher does when a batch fills up.
        """
        self._flush(complete_only, closing=False)

    def _flush(self, complete_only: bool, closing: bool) -> None:
        self._check_process()
        if self._link is not None:  # the shipper flushes its sink; this waits for its answer
            if not complete_only:
                self._link.command("flush", self.flush_deadline + SHIPPER_GRACE)
            return
        deadline = self._clock() + self.flush_deadline
        holder = object()
        with self._send_lock:
            with self._lock:  # take the buffer; the logging calls wait only for this swap
                if closing:  # with the last take: later events go to the fallback, none stay
                    self._closed = True
                taken, self._buffer, self._buffer_bytes = self._buffer, [], 0
                self._counters["in_flight"] += len(taken)
                if taken and self._tracks_undone:
                    self._held[holder] = min(map(_SEQ, taken))
            try:
                batches = plan_batches(taken, self.batch_size, self.max_batch_bytes)
                if complete_only and batches and not self._is_complete(batches[-1]):
                    kept = batches.pop()  # a partial batch waits: back in front of newer events
                    with self._lock:
                        self._buffer[:0] = kept
                        self._buffer_bytes += _bytes(kept)
                        self._counters["in_flight"] -= len(kept)
                # while batch k is sent, k and those after it are held: their lowest number
                lows: list[int | None] = [None] * len(batches)
                if self._tracks_undone:
                    lowest = (min(map(_SEQ, batch)) for batch in reversed(batches))
                    lows = list(itertools.accumulate(lowest, min))
                    lows.reverse()
                for batch, low in zip(batches, lows, strict=True):
                    if low is not None:
                        with self._lock:
                            self._held[holder] = low
                    self._deliver(batch, deadline)
            finally:
                with self._lock:
                    self._held.pop(holder, None)

    # whether flushes and sheddings record what they hold (a shipper's sink: its reports rest
    # on oldest_undone_seq); off, they skip the work (a scan of what they take, under the lock)
    _tracks_undone = False

    def oldest_undone_seq(self) -> int | None:
        """The lowest sequence number of an event neither sent nor in the fallback yet
        (buffered, or held by a flush or a shedding), None when every event enqueued is done:
        the events numbered below it are all done, whatever order they were sent in. Exact
        only where _tracks_undone is on (lib.logging.shipper's sink)."""
        with self._lock:
            lows = list(self._held.values())
            if self._buffer:
                lows.append(min(map(_SEQ, self._buffer)))
        return min(lows, default=None)

    def _is_complete(self, batch: list[LogEvent]) -> bool:
        return len(batch) >= self.batch_size or _bytes(batch) >= self.max_batch_bytes

    def close(self) -> None:
        self._check_process()
        if self._closed:
            return
        self._stopping = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            thread.join(timeout=self.flush_deadline + 5)
        if self._link is not None:
            self._closed = True  # later calls of this sink's go to the link's fallback
            self._link.close(self.flush_deadline + SHIPPER_GRACE)
        else:
            self._flush(complete_only=False, closing=True)
        _OPEN_SINKS.pop(id(self))
        self._report_losses()
        super().close()

    def _report_losses(self) -> None:
        """At close, when anything missed CloudWatch: one summary line next to those events."""
        figures = self.snapshot()
        if figures["to_fallback"] or figures["dropped"]:
            summary = {
                "fallback_summary": "cloudwatch",
                "counters": figures,
                "log_group": self.log_group_name,
                "log_stream": self.log_stream_name,
            }
            self._warn(json.dumps(summary))

    def __enter__(self) -> CloudwatchLogs:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _ensure_thread(self) -> None:
        if self._thread is not None or self._stopping or self.flush_interval <= 0:
            return
        start_thread_once(self, self._lock, self._run_flusher, f"cloudwatch-{self.log_stream_name}")

    def _run_flusher(self) -> None:
        self._local.sending = True  # everything this thread logs comes from sending
        pid = os.getpid()
        while not self._stopping and os.getpid() == pid:
            self._wake.wait(timeout=max(0.05, self.flush_interval / 4))
            self._wake.clear()
            if self._stopping:
                return
            with self._lock:
                oldest = self._buffer[0].timestamp if self._buffer else None
                full = (
                    len(self._buffer) >= self.batch_size
                    or self._buffer_bytes >= self.max_batch_bytes
                )
            due = oldest is not None and (
                self._clock() * 1000 - oldest >= self.flush_interval * 1000
            )
            if full or due:
                try:
                    self.flush(complete_only=not due)
                except Exception as error:  # never let the thread die silently
                    self._count_failure(error)

    # ------------------------------------------------------------------ delivery

    def _deliver(self, batch: list[LogEvent], deadline: float) -> None:
        skipped = self._skip_reason()
        if skipped is not None:
            if skipped != "invalid_name":  # no breaker involved: the reason says it all
                with self._lock:
                    self._counters["breaker_skips"] += 1
            self._to_fallback(batch, skipped)
            return
        attempt = 0
        created = refreshed = False
        with self._sending():
            while True:
                if self._clock() + self.attempt_budget > deadline:
                    self._to_fallback(batch, "flush_deadline")
                    return
                try:
                    with self._lock:
                        self._counters["put_calls"] += 1
                    response = self._within_budget(
                        self.client.put_log_events,
                        logGroupName=self.log_group_name,
                        logStreamName=self.log_stream_name,
                        logEvents=[
                            {"timestamp": timestamp, "message": message}
                            for timestamp, _, message, _ in batch
                        ],
                    )
                except ClientError as error:
                    code = error_code(error)
                    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
                    if code == "ResourceNotFoundException" and not created:
                        created = True
                        if self._create_destination():
                            continue
                        self._to_fallback(batch, "resource_not_found")
                        return
                    if code in CREDENTIAL_CODES:
                        self._drop_client()  # the next client reads refreshed credentials
                        if not refreshed:
                            refreshed = True
                            continue
                        self._pause(f"credentials:{code}")
                        self._to_fallback(batch, f"credentials:{code}")
                        return
                    if code in ACCESS_DENIED_CODES:
                        self._disable(f"access_denied:{code}")
                        self._to_fallback(batch, f"access_denied:{code}")
                        return
                    throttled = code in THROTTLING_CODES
                    if throttled or code in TRANSIENT_CODES or status >= 500:
                        if not self._backoff(attempt, deadline, throttled=throttled):
                            if not throttled:  # the endpoint keeps failing: skip it a while
                                self._trip(f"{code or status}")
                            self._to_fallback(batch, f"gave_up:{code or status}")
                            return
                        attempt += 1
                        continue
                    self._to_fallback(batch, f"error:{code or status}")
                    return
                except (NoCredentialsError, PartialCredentialsError, NoRegionError) as error:
                    # not transient: retrying cannot help, and every later call would fail too
                    self._disable(f"unusable_client:{type(error).__name__}")
                    self._to_fallback(batch, f"unusable_client:{type(error).__name__}")
                    return
                except TIMEOUT_ERRORS as error:
                    # a silent endpoint: another attempt would cost the same again
                    self._trip(type(error).__name__)
                    self._to_fallback(batch, f"gave_up:{type(error).__name__}")
                    return
                except (BotoCoreError, ConnectionError) as error:
                    refused = isinstance(error, CONNECTION_ERRORS)
                    if (refused and attempt + 1 >= CONNECTION_ATTEMPTS) or not self._backoff(
                        attempt, deadline, throttled=False
                    ):
                        if isinstance(error, CONNECTION_ERRORS):
                            self._trip(type(error).__name__)
                        self._to_fallback(batch, f"gave_up:{type(error).__name__}")
                        return
                    attempt += 1
                    continue
                except Exception as error:  # anything else (a bad endpoint URL...): not lost
                    self._disable(f"unusable_client:{type(error).__name__}")
                    self._to_fallback(batch, f"unusable_client:{type(error).__name__}")
                    return
                self._breaker().reset()
                self._account(batch, response)
                return

    def _within_budget(self, call: Callable[..., Any], **arguments: Any) -> Any:
        """`call` with a wall-clock limit of one attempt budget: botocore's read time-out is
        per socket read, so an endpoint that trickles its answer could hold it for ever. Past
        the budget the attempt is abandoned (its thread ends with the socket) and counts as a
        time-out; its events go to the fallback, and may still arrive (then twice)."""
        outcome: dict[str, Any] = {}

        def attempt() -> None:
            self._local.sending = True  # records botocore logs here are not re-enqueued
            try:
                outcome["response"] = call(**arguments)
            except BaseException as error:  # handed to the caller's thread below
                outcome["error"] = error

        worker = threading.Thread(target=attempt, name="cloudwatch-attempt", daemon=True)
        worker.start()
        worker.join(self.attempt_budget + 0.5)
        if worker.is_alive():
            self._client = None  # its connection pool stays with the abandoned attempt
            raise AttemptOverBudget(f"no answer within {self.attempt_budget:.1f} s")
        if "error" in outcome:
            raise outcome["error"]
        return outcome["response"]

    def _skip_reason(self) -> str | None:
        """Why a batch goes straight to the fallback now, or None to try CloudWatch."""
        if self._disabled:
            return self._disabled
        if self._invalid_names:
            return "invalid_name"
        now = self._clock()
        if now < self._paused_until:
            return self._paused_reason
        blocked = self._breaker().blocked(now)
        return None if blocked is None else f"endpoint_unavailable:{blocked}"

    def _warn(self, text: str) -> None:
        """One line for the operator, where the fallback goes (stderr by default)."""
        self._write_stderr(text + "\n")

    def _trip(self, reason: str) -> None:
        if self._breaker().trip(reason, self._clock(), self.breaker_seconds):
            self._warn(
                f"CloudWatch Logs at {self.endpoint} did not answer ({reason}); for the next "
                f"{self.breaker_seconds:g} s this process's events for it go to the fallback "
                "on stderr"
            )

    def _pause(self, reason: str) -> None:
        with self._lock:
            first = self._paused_reason is None
            self._paused_until = self._clock() + self.breaker_seconds
            self._paused_reason = reason
        if first:
            self._warn(
                f"CloudWatch Logs sink for {self.log_group_name}/{self.log_stream_name} paused "
                f"({reason}); retried with fresh credentials every {self.breaker_seconds:g} s, "
                "meanwhile events go to the fallback on stderr"
            )

    def _drop_client(self) -> None:
        with self._lock:
            self._client = None
            self._counters["credential_refreshes"] += 1

    def _backoff(self, attempt: int, deadline: float, throttled: bool) -> bool:
        delay = random.random() * min(self.max_backoff, self.backoff_multiplier * 2**attempt)
        with self._lock:
            if throttled:
                self._counters["throttled"] += 1
            if (
                attempt + 1 >= self.max_attempts
                or self._clock() + delay + self.attempt_budget > deadline
            ):
                return False
            self._counters["retries"] += 1
        self._sleep(delay)
        return True

    def _create_destination(self) -> bool:
        """The stream, and its group when missing (with the sink's retention and tags)."""
        try:
            self.create_log_stream()
        except ClientError as error:
            if error_code(error) != "ResourceNotFoundException":
                return False
            try:
                self.create_log_group(retention_days=self.retention_days, tags=self.tags)
                self.create_log_stream()
            except Exception:
                return False
        except Exception:  # unreachable (the breaker is open now) or anything else
            return False
        return True

    def _account(self, batch: list[LogEvent], response: Mapping[str, Any]) -> None:
        info = response.get("rejectedLogEventsInfo") or {}
        too_new_from = info.get("tooNewLogEventStartIndex")  # inclusive
        too_old_to = info.get("tooOldLogEventEndIndex")  # exclusive
        expired_to = info.get("expiredLogEventEndIndex")  # exclusive
        rejected: dict[str, list[LogEvent]] = {}
        accepted: list[LogEvent] = [] if info else batch  # all accepted: no loop over them
        for index, event in enumerate(batch if info else ()):
            if too_new_from is not None and index >= too_new_from:
                rejected.setdefault("too_new", []).append(event)
            elif expired_to is not None and index < expired_to:
                rejected.setdefault("expired", []).append(event)
            elif too_old_to is not None and index < too_old_to:
                rejected.setdefault("too_old", []).append(event)
            else:
                accepted.append(event)
        with self._lock:
            self._counters["sent"] += len(accepted)
            self._counters["in_flight"] -= len(accepted)
            self._counters["bytes_sent"] += _bytes(accepted)
            for reason, events in rejected.items():
                self._counters[f"rejected_{reason}"] += len(events)
        for reason, events in rejected.items():
            self._to_fallback(events, f"rejected_{reason}")

    def _disable(self, reason: str) -> None:
        with self._lock:
            first = self._disabled is None
            self._disabled = reason
        if first:
            self._warn(
                f"CloudWatch Logs sink for {self.log_group_name}/{self.log_stream_name} is off "
                f"({reason}); further events go to the fallback on stderr"
            )

    def _to_fallback(self, events: list[LogEvent], reason: str) -> None:
        lines = "".join(
            json.dumps(
                {
                    "fallback": "cloudwatch",
                    "reason": reason,
                    "log_group": self.log_group_name,
                    "log_stream": self.log_stream_name,
                    "timestamp": event.timestamp,
                    "message": event.message,
                },
                ensure_ascii=False,
            )
            + "\n"
            for event in events
        )
        delivered = self._write_stderr(lines)
        with self._lock:
            self._counters["in_flight"] -= len(events)
            self._counters["to_fallback" if delivered else "dropped"] += len(events)

    def _write_stderr(self, text: str) -> bool:
        stream = self._fallback or sys.stderr
        try:
            stream.write(text)
            stream.flush()
        except Exception:
            return False
        return True

    def _write_fallback_from_shipper(self, text: str) -> bool:
        """The shipper's fallback lines, written here: marked as sending, so that a stderr
        sent back into logging does not come back to this sink (as for its own thread)."""
        with self._sending():
            return self._write_stderr(text)

    def _sending(self) -> _SendingScope:
        return _SendingScope(self._local)

    # ------------------------------------------------------------------ figures

    def snapshot(self) -> dict[str, int]:
        """Counters; enqueued == sent + to_fallback + dropped + pending at every moment."""
        self._check_process()
        if self._link is not None:
            return self._link.snapshot()
        with self._lock:
            figures = dict(self._counters)
            figures["enqueued"] = self._seq  # one sequence number per event enqueued
            figures["pending"] = len(self._buffer) + figures.pop("in_flight")
            figures["buffered_bytes"] = self._buffer_bytes
        return figures


class _ThreadState(threading.local):
    """Per thread: whether it is sending for the sink. A class attribute gives the default, so
    reading it in a thread that never set it costs no AttributeError (getattr with a default
    on a threading.local raises and catches one: about a microsecond per logging call)."""

    sending = False


class _SendingScope:
    """Marks the current thread as sending, so records it causes are not re-enqueued."""

    def __init__(self, local: _ThreadState) -> None:
        self._local = local
        self._previous = False

    def __enter__(self) -> None:
        self._previous = self._local.sending
        self._local.sending = True

    def __exit__(self, *exc_info: object) -> None:
        self._local.sending = self._previous


def _rebuild_cloudwatch_logs(config: dict[str, Any]) -> CloudwatchLogs:
    """An unpickled sink: the one this process already built for the same configuration."""
    key = tuple(sorted((name, _hashable(value)) for name, value in config.items()))
    sink = _UNPICKLED_SINKS.get(key, lambda: CloudwatchLogs(**config))
    if sink._closed:  # a task closed it: later tasks get a new one
        _UNPICKLED_SINKS.pop(key)
        sink = _UNPICKLED_SINKS.get(key, lambda: CloudwatchLogs(**config))
    return sink


def _hashable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _hashable(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_hashable(item) for item in value)
    return value


def _check_int(name: str, value: Any, low: int, high: int | None) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        bounds = f"{low}..{high}" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be a whole number {bounds}, got {value!r}")
