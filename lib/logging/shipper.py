"""The shipper: a CloudWatch Logs sink's delivery in a child process (``delivery="process"``).

A logging call in the job's process only formats its record and appends it to a queue; a thread
hands the queue to the shipper, a child Python process (this interpreter running this module's
`main`, see start_shipper), in frames over a pipe, and the shipper does the rest with an
ordinary thread-delivery CloudwatchLogs: redaction of plain records, splitting, batching,
PutLogEvents, retries, the breaker, the fallback. None of that work runs on the job's
interpreter (its GIL), and what the shipper has received is delivered even if the job's process
dies (it drains and exits when the pipe closes). Issue 15: a logging call costs about 0.4x
watchtower's instead of 0.8x.

Frames: a 4-byte little-endian length, then a ``marshal`` dump of a tuple of plain values.

    job -> shipper  ("start", config)                     the sink's configuration
                    ("events", redactor_values | None, [(timestamp_ms, line, redact), ...])
                    ("flush", token) / ("close", token)
    shipper -> job  ("report", received, settled, counters)   after work, at most 10 a second
                    ("fallback", text)                    lines for the job's fallback stream
                    ("done", token, received, settled, counters)

`received`: the items the shipper has taken from the pipe; `settled`: the first items of those
whose events all were sent or went to the fallback, whatever order the batches went in (the
sink's oldest_undone_seq); the job's process keeps every item until it is settled, and writes
the rest to its fallback if the shipper dies: those may then appear twice, never not at all.
`counters`: the shipper's sink's snapshot. The shipper ignores SIGINT, SIGTERM and SIGHUP (a
signal to the job's process group is the job's to handle): it ends when its input does.
"""

from __future__ import annotations

import collections
import contextlib
import json
import marshal
import os
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any

from lib.logging.base import start_thread_once
from lib.redact import Redactor

FRAME_HEADER = struct.Struct("<I")
# seconds: the thread ships what is queued this often (0.05 s cost the logging calls of the
# bench about 0.3 µs more: the thread takes the interpreter four times as often)
SHIP_INTERVAL = 0.2
REPORT_INTERVAL = 0.1  # seconds between the shipper's reports while it works
HEARTBEAT_SECONDS = 1.0  # it reports at least this often, working or not: it is alive
SHIPPER_NICE = 10  # the shipper yields the CPU to the job
# past the cap a logging call waits this long for the shipping thread to take the queue, then
# sheds; a wait that did not help makes the calls of the next STALL_SECONDS shed at once
CAP_WAIT_SECONDS = 0.5
STALL_SECONDS = 5.0
FALLBACK_LINE = '{"fallback": "cloudwatch", '  # how each event's fallback line starts


def plain(value: Any) -> Any:
    """`value` as the plain types marshal takes (str, int, float, bool, None, and tuples,
    lists and dicts of them): a str or int subclass (an enum) as its value, a mapping as a
    dict; anything else as its text."""
    if value is None or type(value) in (str, int, float, bool):  # bool has no subclasses
        return value
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, Mapping):
        return {plain(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return str(value)


def frame(value: Any) -> bytes:
    """`value`'s frame (marshal raises ValueError for a value it cannot take)."""
    data = marshal.dumps(value)
    return FRAME_HEADER.pack(len(data)) + data


def write_frame(stream: IO[bytes], value: Any) -> None:
    write_bytes(stream, frame(value))


def write_bytes(stream: IO[bytes], data: bytes) -> None:
    stream.write(data)
    stream.flush()


def read_frames(stream: IO[bytes]) -> Iterator[Any]:
    """Frames until the stream ends (a cut frame ends it too)."""
    while True:
        header = stream.read(FRAME_HEADER.size)
        if len(header) < FRAME_HEADER.size:
            return
        (size,) = FRAME_HEADER.unpack(header)
        data = stream.read(size)
        if len(data) < size:
            return
        yield marshal.loads(data)  # noqa: S302 (our own pipe, to or from our own child)


# ---------------------------------------------------------------------- the job's side


class ShipperLink:
    """The job's end: the queue the logging calls append to, the thread that ships it, the
    thread that reads the shipper's reports and fallback lines, and the counts of both."""

    def __init__(
        self,
        config: dict[str, Any],
        write_fallback: Callable[[str], bool],
        redactor: Callable[[], Redactor],
        max_events: int,
        max_bytes: int,
        name: str,
        counter_names: tuple[str, ...],
    ) -> None:
        self._config = plain(config)
        self._write_fallback = write_fallback
        self._redactor = redactor
        self._max_events = max_events
        self._max_bytes = max_bytes
        # at half the cap a logging call wakes the shipping thread
        self._wake_events = max(max_events // 2, 1)
        self._wake_bytes = max(max_bytes // 2, 1)
        self._stalled_until = 0.0
        self._name = name
        self._lock = threading.Lock()  # every count, and what leaves the queue
        self._write_lock = threading.Lock()  # one writer of frames at a time
        # the logging calls append without a lock (a deque's append is atomic); the items
        # leave it from the left, under the lock, to the shipping thread or the cap's shedding
        self._queue: collections.deque[tuple[int, str, bool]] = collections.deque()
        # characters queued: kept by the calls without a lock, so it may run short when
        # threads log at once (until the next shipment counts it again); it serves the cap
        # (max_bytes); the count of items (max_events) is the queue's own, exact
        self._queued_bytes = 0
        self._in_hand = 0  # items taken from the queue and not yet written to the pipe
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._stopping = False
        self._lost: str | None = None  # why the shipper is gone (its items went to the fallback)
        self._shipped = 0  # items written to the pipe
        self._received = 0  # items the shipper has taken (its last report)
        self._unsettled: collections.deque[tuple[int, list[tuple[int, str, bool]]]] = (
            collections.deque()
        )  # (end, items) written and not yet settled
        # the shipper's sink's last snapshot (all zero before its first report)
        self._counters: dict[str, int] = dict.fromkeys(counter_names, 0)
        self._to_fallback = 0  # items this side wrote to the fallback
        self._dropped = 0  # items this side could not write there either
        self._unforwarded = 0  # the shipper's fallback lines this side could not write
        self._values_sent: tuple[str, ...] | None = None
        self._tokens = 0
        self._answers: dict[int, threading.Event] = {}
        self._closed = False
        self._close_sent = False  # the close frame is written: nothing may follow it
        self._heard = 0.0  # time.monotonic() of the shipper's last frame (or start)
        self._writing_since: float | None = None  # a write to the pipe under way since

    # ------------------------------------------------------------------ the logging call

    def put(self, timestamp: int, line: str, redact: bool) -> None:
        """Queue one line (an exact str: see plain) at `timestamp` (an exact int, in ms);
        `redact`: the shipper redacts it with this sink's redactor."""
        queue = self._queue
        queue.append((timestamp, line, redact))
        self._queued_bytes += len(line)
        if self._closed:  # checked after the append: close() takes the queue after setting it
            self._after_close()
        elif len(queue) > self._wake_events or self._queued_bytes > self._wake_bytes:
            self._fill_up()
        elif self._thread is None:
            self._start_thread()

    def _after_close(self) -> None:
        with self._lock:
            items = self._take_queued()
        self._fallback(items, "closed", in_hand=True)

    def _fill_up(self) -> None:
        """Half the cap: wake the shipping thread. Past the cap: wait for it to take the queue
        (CAP_WAIT_SECONDS at most, none while the shipper is stalled), then shed the oldest
        items to the fallback."""
        if self._thread is None:
            self._start_thread()
        self._wake.set()
        writing_since = self._writing_since
        stuck = writing_since is not None and time.monotonic() - writing_since > CAP_WAIT_SECONDS
        if not self._over_cap() or stuck or time.monotonic() < self._stalled_until:
            if self._over_cap():
                self._shed()
            return
        deadline = time.monotonic() + CAP_WAIT_SECONDS
        while self._over_cap() and time.monotonic() < deadline and self._lost is None:
            time.sleep(0.005)
        if self._over_cap():
            self._stalled_until = time.monotonic() + STALL_SECONDS
            self._shed()

    def _over_cap(self) -> bool:
        return len(self._queue) > self._max_events or self._queued_bytes > self._max_bytes

    def _shed(self) -> None:
        """Past the cap (a shipper that cannot keep up): the oldest queued items go to the
        fallback, as the thread delivery's buffer does (_fill_up decides whether to wait for
        the shipping thread first)."""
        shed = []
        with self._lock:
            queue = self._queue
            while queue and self._over_cap():
                item = queue.popleft()
                self._queued_bytes -= len(item[1])
                shed.append(item)
            self._in_hand += len(shed)
        self._fallback(shed, "buffer_full", in_hand=True)

    def _take_queued(self) -> list[tuple[int, str, bool]]:
        """Under the lock: what the queue holds now, in order (later calls append behind)."""
        take = self._queue.popleft
        items = [take() for _ in range(len(self._queue))]
        # counted again from what is left (list() copies it at once): what calls of several
        # threads at once left uncounted is not carried on
        self._queued_bytes = sum(len(item[1]) for item in list(self._queue))
        self._in_hand += len(items)
        return items

    # ------------------------------------------------------------------ shipping

    def _start_thread(self) -> None:
        if not self._stopping:
            start_thread_once(self, self._lock, self._run, f"cloudwatch-shipper-{self._name}")

    def _run(self) -> None:
        while not self._stopping:
            self._wake.wait(SHIP_INTERVAL)
            self._wake.clear()
            self._ship()

    def _ensure_process(self) -> subprocess.Popen[bytes] | None:
        """Under the write lock: the running shipper, started at the first shipment."""
        if self._process is None and self._lost is None:
            try:
                self._heard = time.monotonic()  # its silence counts from its start
                self._process = start_shipper()
                write_frame(self._process.stdin, ("start", self._config))
            except Exception as error:
                self._lose(f"shipper_not_started:{type(error).__name__}")
                return None
            threading.Thread(
                target=self._read, args=(self._process,), name=f"cloudwatch-reports-{self._name}",
                daemon=True,
            ).start()  # fmt: skip
        return self._process if self._lost is None else None

    def _ship(self) -> None:
        """Write what is queued to the shipper (or, without one, to the fallback). Never
        raises: what it took goes to the fallback if anything fails (the thread lives on)."""
        with self._write_lock:
            if self._close_sent:  # close() takes what is queued now, for the fallback
                return
            with self._lock:
                items = self._take_queued()
            if not items:
                return
            try:
                self._ship_items(items)
            except Exception as error:
                self._fallback(items, f"unshippable:{type(error).__name__}", in_hand=True)

    def _ship_items(self, items: list[tuple[int, str, bool]]) -> None:
        """Under the write lock: `items`, taken from the queue, to the pipe."""
        process = self._ensure_process()
        if process is None:
            self._fallback(items, self._lost or "shipper_lost", in_hand=True)
            return
        values = None
        if any(redact for _, _, redact in items):
            redactor = self._redactor()
            if type(redactor) is Redactor:  # the shipper's Redactor gives the same text
                values = redactor._longest_first
            else:  # a subclass's own: it redacts here, off the logging call still
                items = [
                    (at, redactor.text(line) if redact else line, False)
                    for at, line, redact in items
                ]
        changed = None if values is None or values is self._values_sent else plain(values)
        # items are plain already (put's callers give an exact str and int): a failure raises
        data = frame(("events", changed, items))
        with self._lock:
            if self._lost is not None:  # lost meanwhile: these were not in what it handed back
                lost = True
            else:
                lost = False
                self._in_hand -= len(items)
                self._shipped += len(items)
                self._unsettled.append((self._shipped, items))
        if lost:
            self._fallback(items, self._lost or "shipper_lost", in_hand=True)
            return
        self._writing_since = time.monotonic()
        try:
            write_bytes(process.stdin, data)
        except (OSError, ValueError) as error:  # the shipper is gone
            self._lose(f"shipper_lost:{type(error).__name__}")
            return
        finally:
            self._writing_since = None
        if values is not None:
            self._values_sent = values

    def command(self, kind: str, timeout: float) -> bool:
        """Ship what is queued, then ask the shipper to flush its sink and wait `timeout`
        seconds at most for its answer (it may still be working through earlier frames:
        then it goes on, and this returns False). A shipper silent for `timeout` seconds (it
        reports every second while alive) is killed, and what it had not settled goes to the
        fallback. True when it answered, or there was nothing to ask."""
        if self._closed:
            return True
        with self._watchdog(timeout, kind, limit=None):
            return self._command(kind, timeout)

    @contextlib.contextmanager
    def _watchdog(self, silence: float, kind: str, limit: float | None) -> Iterator[None]:
        """While the block runs, kill the shipper when it has been silent for `silence`
        seconds (stopped or hung: a write to a shipper that stopped reading would block for
        ever), or when the block has run for `limit` seconds."""
        done = threading.Event()
        started = time.monotonic()

        def watch() -> None:
            while not done.wait(0.1):
                now = time.monotonic()
                late = limit is not None and now - started > limit
                if (self._process is not None and now - self._heard > silence) or late:
                    self._lose(f"shipper_unanswered:{kind}")
                    return

        threading.Thread(
            target=watch, name=f"cloudwatch-watchdog-{self._name}", daemon=True
        ).start()
        try:
            yield
        finally:
            done.set()

    def _command(self, kind: str, wait: float | None) -> bool:
        self._ship()
        with self._write_lock:
            if self._closed or self._close_sent:  # another thread closed it meanwhile
                return True
            process = self._ensure_process() if self._shipped else self._process
            if process is None:
                return self._lost is None  # nothing was ever shipped: nothing to wait for
            with self._lock:
                self._tokens += 1
                token = self._tokens
                answered = self._answers[token] = threading.Event()
            try:
                write_frame(process.stdin, (kind, token))
            except (OSError, ValueError) as error:
                self._lose(f"shipper_lost:{type(error).__name__}")
                return False
            if kind == "close":
                self._close_sent = True
        done = answered.wait(wait)
        with self._lock:
            self._answers.pop(token, None)
        return done and self._lost is None

    def close(self, timeout: float) -> None:
        """Drain into the shipper, close its sink and wait for it to exit: as long as it
        works (it may have earlier frames' flushes to finish), 3 x `timeout` at most, or
        until it has been silent for `timeout`; then it is killed and what it had not settled
        goes to the fallback."""
        if self._closed:
            return
        self._stopping = True
        self._wake.set()
        with self._watchdog(timeout, "close", limit=3 * timeout):
            thread = self._thread
            if (
                thread is not None
                and thread.is_alive()
                and thread is not threading.current_thread()
            ):
                thread.join()  # the watchdog ends a write that blocks it
            answered = self._command("close", None)
            with self._write_lock:
                self._closed = True
            process = self._process
            if process is not None:
                with contextlib.suppress(OSError, ValueError):
                    process.stdin.close()
                try:
                    process.wait(timeout=timeout if answered else 0.5)
                except subprocess.TimeoutExpired:
                    self._lose("shipper_unanswered:exit")
                    process.wait()
                self._reader_done(process)
        self._after_close()  # what came in meanwhile

    # ------------------------------------------------------------------ the shipper's answers

    def _read(self, process: subprocess.Popen[bytes]) -> None:
        try:
            for frame in read_frames(process.stdout):
                self._heard = time.monotonic()
                kind = frame[0]
                if kind == "fallback":
                    if not self._write_fallback(frame[1]):
                        with self._lock:
                            self._unforwarded += frame[1].count(FALLBACK_LINE)
                elif kind in ("report", "done"):
                    self._take_report(*frame[-3:])
                    if kind == "done":
                        with self._lock:
                            answered = self._answers.get(frame[1])
                        if answered is not None:
                            answered.set()
        except Exception as error:  # a garbled frame: the shipper is no longer trusted
            self._lose(f"shipper_garbled:{type(error).__name__}")
        self._reader_done(process)

    def _reader_done(self, process: subprocess.Popen[bytes]) -> None:
        """The shipper's output ended: what it had not settled goes to the fallback."""
        if self._lost is None:
            try:
                code = process.wait(timeout=1.0)  # reaped: its exit code, not None
            except subprocess.TimeoutExpired:
                code = None
            with self._lock:
                clean = self._stopping and not self._unsettled  # close() takes the queue
            if not clean:
                self._lose(f"shipper_exited:{code}")
        for answered in list(self._answers.values()):
            answered.set()

    def _take_report(self, received: int, settled: int, counters: dict[str, int]) -> None:
        with self._lock:
            if self._lost is not None:  # what it had not settled is this side's now
                return
            self._received = received
            self._counters = counters
            while self._unsettled and self._unsettled[0][0] <= settled:
                self._unsettled.popleft()

    def _lose(self, reason: str) -> None:
        """The shipper is gone: its unsettled items go to the fallback (they may have been
        sent: then twice), and so do later items, at their shipment (no new shipper)."""
        with self._lock:
            if self._lost is not None:
                return
            self._lost = reason
            unsettled = [item for _, items in self._unsettled for item in items]
            self._unsettled.clear()
            # the shipper's pending events are among those: counted once, as this side's
            self._counters = {**self._counters, "pending": 0, "buffered_bytes": 0}
            self._received = self._shipped
        self._write_fallback(
            f"CloudWatch Logs shipper for {self._name} is gone ({reason}); its events go to "
            "the fallback on stderr (those it may have sent too: then twice)\n"
        )
        self._fallback(unsettled, reason)
        process = self._process
        if process is not None and process.poll() is None:
            with contextlib.suppress(OSError):
                process.kill()

    def _fallback(
        self, items: list[tuple[int, str, bool]], reason: str, in_hand: bool = False
    ) -> None:
        """`items` to the fallback (`in_hand`: taken from the queue, counted as in hand)."""
        if not items:
            return
        lines = "".join(
            json.dumps(
                {
                    "fallback": "cloudwatch",
                    "reason": reason,
                    "sink": self._name,
                    "timestamp": timestamp,
                    # a line the shipper was to redact is not written as it is
                    "message": self._redact(line) if redact else line,
                },
                ensure_ascii=False,
            )
            + "\n"
            for timestamp, line, redact in items
        )
        written = self._write_fallback(lines)
        with self._lock:
            if in_hand:
                self._in_hand -= len(items)
            if written:
                self._to_fallback += len(items)
            else:
                self._dropped += len(items)

    def _redact(self, line: str) -> str:
        try:
            return self._redactor().text(line)
        except Exception:  # no redactor to be had: nothing of the line is written
            return "<not redacted: withheld>"

    # ------------------------------------------------------------------ figures

    def snapshot(self) -> dict[str, int]:
        """The shipper's counters with this side's: pending counts what is queued here, in
        the pipe and in the shipper; enqueued == sent + to_fallback + dropped + pending."""
        with self._lock:
            figures = dict(self._counters)
            in_transit = len(self._queue) + self._in_hand + self._shipped - self._received
            figures["pending"] += in_transit
            # the shipper's fallback lines count as dropped when this side could not write them
            figures["to_fallback"] += self._to_fallback - self._unforwarded
            figures["dropped"] += self._dropped + self._unforwarded
            queued_bytes = max(self._queued_bytes, 0)
            figures["buffered_bytes"] += queued_bytes
            figures["enqueued"] = (
                figures["sent"] + figures["to_fallback"] + figures["dropped"] + figures["pending"]
            )
            figures["shipper_lost"] = int(self._lost is not None)
        return figures


def start_shipper() -> subprocess.Popen[bytes]:
    """A shipper with this interpreter, its flags and this process's import path (a
    --py-files zip or a Glue --extra-py-files added while the job runs): it imports the same
    lib and the same boto3."""
    code = (
        "import sys; sys.path[:0] = __import__('json').loads(sys.argv[1]); "
        "from lib.logging.shipper import main; main()"
    )
    # what the import system takes: str and path-like entries ("" is the current folder)
    entries = (os.fspath(e) for e in sys.path if isinstance(e, str | os.PathLike))
    path = [entry or os.getcwd() for entry in entries if isinstance(entry, str)]
    # this interpreter's flags too (-S, -I, -X ...), as multiprocessing's spawn passes them
    flags = subprocess._args_from_interpreter_flags()
    return subprocess.Popen(
        [sys.executable, *flags, "-c", code, json.dumps(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        close_fds=True,
    )


# ---------------------------------------------------------------------- the shipper


class _FallbackToJob:
    """The shipper's sink's fallback stream: its lines go back to the job's fallback."""

    def __init__(self, send: Callable[[Any], None]) -> None:
        self._send = send

    def write(self, text: str) -> int:
        try:
            self._send(("fallback", text))
        except (OSError, ValueError):  # the job's process is gone: the shipper's own stderr
            sys.stderr.write(text)
        return len(text)

    def flush(self) -> None:
        pass


def main() -> None:
    """The shipper's loop: events into a thread-delivery sink until the pipe closes."""
    from lib.logging.cloudwatch import CloudwatchLogs

    class _ShipperSink(CloudwatchLogs):
        _tracks_undone = True  # oldest_undone_seq: what the reports' settled rests on

        def _report_losses(self) -> None:
            """The job's sink says them at its close, with this one's counters in its own."""

    for name in ("SIGINT", "SIGTERM", "SIGHUP"):  # the job's to handle; the pipe's end is ours
        with contextlib.suppress(Exception):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    with contextlib.suppress(Exception):
        os.nice(SHIPPER_NICE)
    source, out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but frames on the pipe
    out_lock = threading.Lock()

    def send(value: Any) -> None:
        with out_lock:
            write_frame(out, value)

    frames = read_frames(source)
    first = next(frames, None)
    if not first or first[0] != "start":
        return
    sink = _ShipperSink(**first[1], fallback=_FallbackToJob(send))
    redactor = Redactor()
    state = threading.Lock()
    received = 0
    # per frame: (the sequence number after its events, the items received up to it)
    ends: collections.deque[tuple[int, int]] = collections.deque()
    settled = 0

    def report(kind: str, *head: Any) -> None:
        nonlocal settled
        with state:
            counters = sink.snapshot()
            oldest = sink.oldest_undone_seq()  # every event numbered below it is done
            while ends and (oldest is None or ends[0][0] <= oldest):
                settled = ends.popleft()[1]
            with contextlib.suppress(OSError, ValueError):  # the job's process is gone
                send((kind, *head, received, settled, counters))

    stop = threading.Event()

    def reporter() -> None:
        last, said = None, time.monotonic()
        while not stop.wait(REPORT_INTERVAL):
            now = (sink.snapshot(), sink.oldest_undone_seq())
            if now != last or time.monotonic() - said >= HEARTBEAT_SECONDS:
                last, said = now, time.monotonic()
                report("report")

    threading.Thread(target=reporter, name="shipper-reports", daemon=True).start()
    try:
        for frame in frames:
            kind = frame[0]
            if kind == "events":
                values, items = frame[1], frame[2]
                if values is not None:
                    redactor = Redactor(values)
                with state:
                    for timestamp, line, redact in items:
                        sink.enqueue_line(redactor.text(line) if redact else line, timestamp)
                    received += len(items)
                    ends.append((sink.snapshot()["enqueued"], received))
            elif kind == "flush":
                sink.flush()
                report("done", frame[1])
            elif kind == "close":
                sink.close()
                report("done", frame[1])
                return
    finally:
        stop.set()
        if not sink._closed:  # the job's process is gone: deliver what came, then exit
            sink.close()
            with contextlib.suppress(Exception):
                report("report")
