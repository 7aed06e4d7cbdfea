"""BaseLogger, the extension point for sinks, and the formatters that carry context as JSON.

A sink is a standard `logging.Handler` and a logger of its own (``sink.info(...)``).
Subclasses implement one method, :meth:`BaseLogger.make_handler`, which receives each record
formatted and redacted. A sink that raises is counted (``failures``) and isolated: the error is
reported once on stderr and the other sinks keep working.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import sys
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import IO, Any, Literal

from lib.redact import Redactor, one_line

LEVELS = {
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARNING": logging.WARNING,
    "WARN": logging.WARNING,
    "ERROR": logging.ERROR,
    "CRITICAL": logging.CRITICAL,
}
# attributes our Logger puts on records
CONTEXT_ATTR = "etl_context"
FIELDS_ATTR = "etl_fields"
# set on a record whose message, fields, context and error text a Logger has already redacted
REDACTED_ATTR = "etl_redacted"


def level_number(level: str | int) -> int:
    if isinstance(level, int) and not isinstance(level, bool) and level >= 0:
        return level
    if isinstance(level, str) and level.upper() in LEVELS:
        return LEVELS[level.upper()]
    raise ValueError(
        f"unknown log level {level!r}; expected one of {list(LEVELS)} or a number >= 0"
    )


def spark_task_context() -> dict[str, int]:
    """stage/partition/attempt when called inside a Spark task on an executor, else {}."""
    if "pyspark" not in sys.modules:
        return {}
    try:
        from pyspark import TaskContext

        task = TaskContext.get()
    except Exception:
        return {}
    if task is None:
        return {}
    return {
        "stage": task.stageId(),
        "partition": task.partitionId(),
        "attempt": task.attemptNumber(),
        "task_attempt_id": task.taskAttemptId(),
    }


def record_context(record: logging.LogRecord) -> dict[str, Any]:
    context: dict[str, Any] = {"host": _HOST, "pid": record.process}
    context.update(getattr(record, CONTEXT_ATTR, None) or {})
    context.update(spark_task_context())
    return context


_HOST = socket.gethostname()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, context, fields, error."""

    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self.redactor = redactor or Redactor()

    def to_dict(self, record: logging.LogRecord) -> dict[str, Any]:
        done = getattr(record, REDACTED_ATTR, False)  # a Logger redacted it before fan-out
        text = _as_is if done else self.redactor.text
        value = _as_is if done else self.redactor.value
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": text(record.getMessage()),
            "context": value(record_context(record)),
        }
        fields = getattr(record, FIELDS_ATTR, None)
        if fields:
            payload["fields"] = value(dict(fields))
        if record.exc_text or record.exc_info:
            payload["error"] = text(record.exc_text or self.formatException(record.exc_info))
        return payload

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(self.to_dict(record), default=str, ensure_ascii=False)


def _as_is(value: Any) -> Any:
    return value


def redact_record(record: logging.LogRecord, redactor: Redactor) -> logging.LogRecord:
    """A copy of `record` with its message (args applied), fields, context and error text
    redacted, marked so that formatters do not redact it again. Any formatter a sink uses
    (ours or a standard one) then only sees redacted text."""
    if getattr(record, REDACTED_ATTR, False):
        return record
    fields = getattr(record, FIELDS_ATTR, None)
    context = getattr(record, CONTEXT_ATTR, None)
    changes = {
        "msg": redactor.text(_message_text(record)),
        "args": None,
        FIELDS_ATTR: redactor.value(dict(fields)) if fields else {},
        CONTEXT_ATTR: redactor.value(dict(context)) if context else {},
        REDACTED_ATTR: True,
    }
    if record.exc_info or record.exc_text:
        error_text = record.exc_text or _PLAIN_FORMATTER.formatException(record.exc_info)
        changes["exc_text"] = redactor.text(error_text)
        changes["exc_info"] = None  # the traceback's locals may hold secrets; its text is kept
    return _copy_record(record, changes)


_PLAIN_FORMATTER = logging.Formatter()


def record_to_format(
    record: logging.LogRecord, redactor: Redactor, formatter: logging.Formatter | None
) -> logging.LogRecord:
    """What a sink formats for `record`: ``redact_record(record, redactor)``, or `record`
    itself when `formatter` makes the same line of both, which saves the copy. That holds for
    a plain text message (a str, no arguments, no error) that redaction leaves as it is,
    without fields or context, formatted by a standard ``logging.Formatter`` whose format
    names none of the attributes the copy changes (msg, args, etl_*): the two records then
    differ in nothing that formatter reads."""
    attributes = record.__dict__
    if (
        type(record) is logging.LogRecord  # a subclass may build its message otherwise
        and type(record.msg) is str
        and not record.args
        and not record.exc_info
        and not record.exc_text
        and not attributes.get(FIELDS_ATTR)
        and not attributes.get(CONTEXT_ATTR)
        and not attributes.get(REDACTED_ATTR)
        and _reads_no_redacted_attribute(formatter)
        and redactor.text(record.msg) == record.msg
    ):
        return record
    return redact_record(record, redactor)


def _reads_no_redacted_attribute(formatter: logging.Formatter | None) -> bool:
    if type(formatter) is not logging.Formatter:  # a subclass may read anything
        return False
    text = getattr(getattr(formatter, "_style", None), "_fmt", None)  # what format() uses
    return isinstance(text, str) and "msg" not in text and "args" not in text and "etl_" not in text


def _copy_record(record: logging.LogRecord, changes: dict[str, Any]) -> logging.LogRecord:
    """``logging.makeLogRecord({**record.__dict__, **changes})``, without running LogRecord's
    constructor for attributes that the copy of `record`'s own then replaces."""
    attributes = record.__dict__.copy()
    attributes.update(changes)
    if logging.getLogRecordFactory() is not logging.LogRecord:
        return logging.makeLogRecord(attributes)  # a custom factory may add its own
    copy = logging.LogRecord.__new__(logging.LogRecord)
    copy.__dict__ = attributes
    return copy


def _message_text(record: logging.LogRecord) -> str:
    """The message with its arguments; when they do not fit its template, both, kept as
    they are with the reason (standard logging would print a traceback and drop it)."""
    try:
        return record.getMessage()
    except Exception as error:
        return f"{record.msg} (arguments {record.args!r} do not fit: {type(error).__name__})"


class TextFormatter(JsonFormatter):
    """For people at a terminal: `ts LEVEL logger message {context and fields as JSON}`."""

    def format(self, record: logging.LogRecord) -> str:
        payload = self.to_dict(record)
        extra = {
            "context": payload["context"],
            **({"fields": payload["fields"]} if "fields" in payload else {}),
        }
        line = (
            f"{payload['ts']} {payload['level']:<7} {payload['logger']} {payload['message']} "
            f"{json.dumps(extra, default=str, ensure_ascii=False)}"
        )
        if "error" in payload:
            line += "\n" + payload["error"]
        return line


class PerProcess:
    """A keyed cache that starts empty in every process: what must not cross a fork (locks,
    clients, threads) is rebuilt by the child, never inherited from its parent."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._items: dict[Any, Any] = {}

    def _check(self) -> None:
        if os.getpid() != self._pid:
            self._reset()

    def get(self, key: Any, factory: Any) -> Any:
        """The item for `key` in this process, made by ``factory()`` the first time."""
        self._check()
        with self._lock:
            item = self._items.get(key)
            if item is None:
                item = self._items[key] = factory()
            return item

    def pop(self, key: Any) -> Any:
        self._check()
        with self._lock:
            return self._items.pop(key, None)

    def values(self) -> list[Any]:
        self._check()
        with self._lock:
            return list(self._items.values())


def start_thread_once(
    owner: Any, lock: threading.Lock, target: Callable[[], None], name: str
) -> None:
    """Start a daemon thread running `target` as ``owner._thread``, unless one is there. The
    slot is claimed under `lock` (two calls start one thread) and given back if the thread
    cannot start (a thread limit: the next call tries again; the error goes to the caller)."""
    with lock:
        if owner._thread is not None:
            return
        thread = owner._thread = threading.Thread(target=target, name=name, daemon=True)
    try:
        thread.start()
    except BaseException:
        with lock:
            owner._thread = None
        raise


def warn_stderr(message: str) -> None:
    """One line on stderr for the operator; never raises (stderr may be gone at shutdown)."""
    with contextlib.suppress(Exception):
        sys.stderr.write(message + "\n")


def utf8_safe(text: str) -> str:
    """`text` as valid UTF-8: a lone surrogate (an undecodable file name) backslash-escaped."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


LEVEL_METHODS = {
    logging.DEBUG: "debug",
    logging.INFO: "info",
    logging.WARNING: "warning",
    logging.ERROR: "error",
    logging.CRITICAL: "critical",
}


def make_record(
    log_name: str,
    level: int,
    message: str,
    args: tuple = (),
    fields: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
    exc_info: Any = None,
) -> logging.LogRecord:
    """A standard LogRecord carrying our context and JSON fields."""
    if exc_info is True:
        exc_info = sys.exc_info()
    record = logging.LogRecord(log_name, level, "", 0, message, args or None, exc_info or None)
    setattr(record, CONTEXT_ATTR, context or {})
    setattr(record, FIELDS_ATTR, fields or {})
    return record


class _Dispatch(threading.local):
    """Per thread: the record a Logger hands to a subclass's own level method, while it runs.
    Class attributes are the defaults (no AttributeError raised and caught per lookup)."""

    active = False
    record: logging.LogRecord | None = None


class BaseLogger(logging.Handler):
    """A sink that is also a logger (the predecessors' contract).

    As a logger: ``sink.info("message")`` (and debug/warning/error/critical/exception), filtered
    by the sink's own `log_level`. As a sink of a :class:`lib.logging.Logger`: it receives
    whatever that Logger's level lets through. It is a standard ``logging.Handler`` too, so
    ``logging.getLogger("x").addHandler(sink)`` works (the handler's level applies there).

    Extension point: implement ``make_handler(message)``; it receives each record formatted
    and redacted (one JSON object per line by default). A subclass may also override a level
    method, e.g. ``def info(self, message)``: a Logger then hands that method the record's
    redacted message text instead of the formatted line. A sink that raises is counted
    (``failures``) and isolated: the error is reported once on stderr and other sinks go on.
    """

    def __init__(
        self,
        log_name: str = "etl",
        log_level: str | int = "INFO",
        formatter: logging.Formatter | None = None,
    ) -> None:
        super().__init__(level=level_number(log_level))
        self.log_name = log_name
        self.setFormatter(formatter or JsonFormatter())
        self._own_redactor = Redactor()
        self.failures = 0
        self._reported = False
        self._failure_lock = threading.Lock()
        self._dispatch = _Dispatch()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._overridden_levels = frozenset(
            level
            for level, method in LEVEL_METHODS.items()
            if getattr(cls, method) is not getattr(BaseLogger, method)
        )
        # _redacted_line's shortcut stands for Handler.format and this class's redactor
        cls._plain_lines = (
            cls.format is logging.Handler.format and cls.redactor is BaseLogger.redactor
        )

    _overridden_levels: frozenset[int] = frozenset()
    _plain_lines = True

    @property
    def redactor(self) -> Redactor:
        """What this sink redacts records with that no Logger redacted (used on its own, or as
        a standard logger's handler): its JSON formatter's redactor, else the default one."""
        return getattr(self.formatter, "redactor", None) or self._own_redactor

    # ------------------------------------------------------------------ the extension point

    def make_handler(self, message: str) -> None:
        """Deliver one formatted, redacted line. Subclasses implement this."""
        raise NotImplementedError(f"{type(self).__name__} must implement make_handler(message)")

    # ------------------------------------------------------------------ the sink as a logger

    def log(self, level: str | int, message: str, *args: Any, **fields: Any) -> None:
        number = level_number(level)
        current = self._dispatch.record
        if current is not None:
            # called from a subclass's own level method that a Logger dispatched to (e.g.
            # ``def info(self, message): super().info("> " + message)``): the Logger already
            # decided the level; keep its record's name, context and fields
            record = logging.makeLogRecord(current.__dict__)
            record.msg, record.args = message, args or None
            record.levelno, record.levelname = number, logging.getLevelName(number)
            record.__dict__.pop(REDACTED_ATTR, None)  # the subclass's text is not checked yet
            if fields:
                setattr(record, FIELDS_ATTR, {**getattr(record, FIELDS_ATTR, {}), **fields})
            logging.Handler.handle(self, record)
        elif number >= self.level:
            self.handle(make_record(self.log_name, number, message, args, fields))

    def debug(self, message: str, *args: Any, **fields: Any) -> None:
        self.log(logging.DEBUG, message, *args, **fields)

    def info(self, message: str, *args: Any, **fields: Any) -> None:
        self.log(logging.INFO, message, *args, **fields)

    def warning(self, message: str, *args: Any, **fields: Any) -> None:
        self.log(logging.WARNING, message, *args, **fields)

    def error(self, message: str, *args: Any, **fields: Any) -> None:
        self.log(logging.ERROR, message, *args, **fields)

    def critical(self, message: str, *args: Any, **fields: Any) -> None:
        self.log(logging.CRITICAL, message, *args, **fields)

    def exception(self, message: str, *args: Any, **fields: Any) -> None:
        if self.level <= logging.ERROR and self._dispatch.record is None:
            record = make_record(self.log_name, logging.ERROR, message, args, fields, None, True)
            self.handle(record)
        else:
            self.log(logging.ERROR, message, *args, **fields)

    # ------------------------------------------------------------------ logging.Handler

    def handle(self, record: logging.LogRecord) -> bool:
        method = LEVEL_METHODS.get(record.levelno)
        if (
            record.levelno in self._overridden_levels
            and method is not None
            and not self._dispatch.active
        ):
            # a subclass's own level method (the predecessors' extension style): it gets the
            # message text, redacted; records it logs itself from there take the normal path
            self._dispatch.active = True
            self._dispatch.record = record
            try:
                text = record.getMessage()
                if not getattr(record, REDACTED_ATTR, False):
                    text = self.redactor.text(text)
                getattr(self, method)(text)
            except Exception as error:
                self._count_failure(error)
            finally:
                self._dispatch.active = False
                self._dispatch.record = None
            return True
        return super().handle(record)

    def _redacted_line(self, record: logging.LogRecord) -> str:
        """What this sink writes for `record`: ``self.format(record_to_format(record, ...))``,
        the record redacted, then formatted. A formatter of the message alone (a standard
        ``logging.Formatter("%(message)s")``, CloudWatch's usual: the event carries its own
        time) makes of a plain record (a str message, no arguments, no error, no stack) its
        message, so that line is the message redacted, without the formatter's call or the
        checks record_to_format makes (about 0.5 µs of a logging call, issue 15)."""
        message = self._plain_message(record)
        if message is None:
            return self.format(record_to_format(record, self.redactor, self.formatter))
        attributes = record.__dict__
        if attributes.get(REDACTED_ATTR):
            record.message = message  # the long way formats `record` itself, and sets it
            return message
        line = self._plain_redactor().text(message)
        if line == message and not attributes.get(FIELDS_ATTR) and not attributes.get(CONTEXT_ATTR):
            record.message = message  # the long way formats `record` itself here too
        return line

    def _plain_message(self, record: logging.LogRecord) -> str | None:
        """The record's message when this sink's line for it is that message, redacted (see
        _redacted_line); None when it must be formatted the long way."""
        message = record.msg
        if (
            type(message) is str
            and not record.args
            and not record.exc_info
            and not record.exc_text
            and not record.stack_info
            and type(record) is logging.LogRecord
            and self._formats_message_alone(self.formatter)
        ):
            return message
        return None

    def _formats_message_alone(self, formatter: logging.Formatter | None) -> bool:
        """Whether `formatter`, on this sink, makes of a plain record its message."""
        return (
            type(formatter) is logging.Formatter
            and self._plain_lines  # a subclass's own format() or redactor: the long way
            and type(formatter._style) is logging.PercentStyle
            and formatter._style._fmt == "%(message)s"
            # a format replaced on the formatter, its style or this handler: the long way
            and "format" not in (own := vars(formatter))
            and "formatMessage" not in own
            and "format" not in (style := vars(formatter._style))
            and "_format" not in style
            and "format" not in vars(self)
        )

    def _plain_redactor(self) -> Redactor:
        """self.redactor for a plain line (a standard Formatter: no redactor of its own unless
        one was set on it), without its property's lookup of a missing attribute."""
        return vars(self.formatter).get("redactor") or self._own_redactor

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self._redacted_line(record)
            try:
                self.make_handler(line)
            except UnicodeEncodeError:  # a lone surrogate (an undecodable file name)
                self.make_handler(utf8_safe(line))
        except Exception as error:
            self._count_failure(error)

    def handleError(self, record: logging.LogRecord) -> None:
        self._count_failure(sys.exc_info()[1])

    def _count_failure(self, error: BaseException | None) -> None:
        with self._failure_lock:
            self.failures += 1
            first = not self._reported
            self._reported = True
        if first:
            detail = one_line(error, redactor=self.redactor) if error is not None else "unknown"
            warn_stderr(
                f"log sink {type(self).__name__} failed and is skipped for this record "
                f"(further failures are only counted): {detail}"
            )

    def describe(self) -> Mapping[str, Any]:
        return {"sink": type(self).__name__, "level": logging.getLevelName(self.level)}


class StdoutLogger(BaseLogger):
    """Lines on standard output, or on stderr with ``stream="stderr"`` (the stream is looked up
    at write time, so redirections apply)."""

    def __init__(
        self,
        log_name: str = "etl",
        log_level: str | int = "INFO",
        json_lines: bool = False,
        stream: Literal["stdout", "stderr"] = "stdout",
    ) -> None:
        super().__init__(log_name, log_level, JsonFormatter() if json_lines else TextFormatter())
        if stream not in ("stdout", "stderr"):
            raise ValueError(f"stream must be 'stdout' or 'stderr', got {stream!r}")
        self.stream = stream

    def make_handler(self, message: str) -> None:
        stream = getattr(sys, self.stream)
        stream.write(message + "\n")
        stream.flush()


DEFAULT_LOG_PATH = "logs"


class FileLogger(BaseLogger):
    """JSON lines appended to ``<log_path>/<log_name>.log`` (the folder is created)."""

    def __init__(
        self,
        log_name: str = "etl",
        log_level: str | int = "INFO",
        log_path: str | os.PathLike[str] = DEFAULT_LOG_PATH,
    ) -> None:
        super().__init__(log_name, log_level, JsonFormatter())
        if not log_name or os.sep in log_name or (os.altsep and os.altsep in log_name):
            raise ValueError(f"log_name {log_name!r} must be a plain file name (no folders)")
        self.log_path = os.fspath(log_path)
        self.file_path = os.path.join(self.log_path, f"{log_name}.log")
        self._stream: IO[str] | None = None

    def make_handler(self, message: str) -> None:
        if self._stream is None:
            os.makedirs(self.log_path, exist_ok=True)
            self._stream = open(self.file_path, "a", encoding="utf-8")  # noqa: SIM115
        self._stream.write(message + "\n")
        self._stream.flush()

    def close(self) -> None:
        with self.lock:
            if self._stream is not None:
                self._stream.close()
                self._stream = None
        super().close()
