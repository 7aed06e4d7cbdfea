"""BaseLogger, the extension point for sinks, and the formatters that carry context as JSON.

A sink is a standard `logging.Handler` with its own level. Subclasses implement one method,
:meth:`BaseLogger.write`, which receives the record and its formatted, redacted line. A sink
that raises is counted (``failures``) and isolated: the error is reported once on stderr and the
other sinks keep working.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import sys
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from lib.redact import Redactor

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


def level_number(level: str | int) -> int:
    if isinstance(level, int):
        return level
    try:
        return LEVELS[level.upper()]
    except KeyError:
        raise ValueError(f"unknown log level {level!r}; expected one of {list(LEVELS)}") from None


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
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": self.redactor.text(record.getMessage()),
            "context": self.redactor.value(record_context(record)),
        }
        fields = getattr(record, FIELDS_ATTR, None)
        if fields:
            payload["fields"] = self.redactor.value(dict(fields))
        if record.exc_info:
            payload["error"] = self.redactor.text(self.formatException(record.exc_info))
        return payload

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(self.to_dict(record), default=str, ensure_ascii=False)


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


class BaseLogger(logging.Handler):
    """A sink: subclass and implement :meth:`write`. Its level is its own."""

    def __init__(self, log_level: str | int = "INFO", formatter: logging.Formatter | None = None):
        super().__init__(level=level_number(log_level))
        self.setFormatter(formatter or JsonFormatter())
        self.failures = 0
        self._reported = False
        self._failure_lock = threading.Lock()

    @property
    def redactor(self) -> Redactor | None:
        return getattr(self.formatter, "redactor", None)

    def use_redactor(self, redactor: Redactor) -> None:
        if isinstance(self.formatter, JsonFormatter):
            self.formatter.redactor = redactor

    def write(self, record: logging.LogRecord, line: str) -> None:
        raise NotImplementedError

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.write(record, self.format(record))
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
            with contextlib.suppress(Exception):  # stderr itself may be gone at shutdown
                sys.stderr.write(
                    f"log sink {type(self).__name__} failed and is skipped for this record "
                    f"(further failures are only counted): {error!r}\n"
                )

    def describe(self) -> Mapping[str, Any]:
        return {"sink": type(self).__name__, "level": logging.getLevelName(self.level)}


class StdoutLogger(BaseLogger):
    """Lines on standard output (read at write time, so redirections apply)."""

    def __init__(self, log_level: str | int = "INFO", json_lines: bool = False):
        super().__init__(log_level, JsonFormatter() if json_lines else TextFormatter())

    def write(self, record: logging.LogRecord, line: str) -> None:
        stream = sys.stdout
        stream.write(line + "\n")
        stream.flush()


class FileLogger(BaseLogger):
    """JSON lines appended to a file (parent folders are created)."""

    def __init__(self, log_path: str | os.PathLike[str], log_level: str | int = "INFO"):
        super().__init__(log_level, JsonFormatter())
        self.log_path = os.fspath(log_path)
        self._stream = None

    def write(self, record: logging.LogRecord, line: str) -> None:
        if self._stream is None:
            directory = os.path.dirname(self.log_path)
            if directory:
                os.makedirs(directory, exist_ok=True)
            self._stream = open(self.log_path, "a", encoding="utf-8")  # noqa: SIM115
        self._stream.write(line + "\n")
        self._stream.flush()

    def close(self) -> None:
        with self.lock:
            if self._stream is not None:
                self._stream.close()
                self._stream = None
        super().close()
