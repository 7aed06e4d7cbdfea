"""Logger: one message fanned out to several sinks, context as JSON, secrets redacted.

    log = Logger(log_name="my_job", log_level="INFO", attach_default_file_logger=True,
                 log_path="logs", context={"job": "my_job", "env": "local", "app_id": app_id})
    log.add_sink(aws.logs(log_group_name="/datalake-etl/dev", log_stream_name="my-job/driver"))
    log.info("read %d files", n, files=n)          # keyword arguments become JSON fields
    run_log = log.bind(run_id="2024-01-02")         # same sinks, more context

The Logger's `log_level` decides what reaches its sinks (all of them: the predecessors'
behaviour, so ``Logger(log_level="DEBUG", loggers=[aws_logger])`` sends debug records to a sink
made with ``log_level="INFO"``); a sink's own level applies when it is used on its own
(``sink.info(...)``) or as the handler of a standard logger (:meth:`attach_to`). The default
sinks: stdout (unless `loggers` are given, or asked not to), and ``<log_path>/<log_name>.log``
(JSON lines) when asked for. Secrets are redacted once per record, before the fan-out, with
this Logger's redactor (patterns and the values registered with :meth:`mask`; Secrets Manager
reads register theirs): every sink, whatever its formatter, and a sink shared by two Loggers,
only sees redacted text.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from typing import Any

from lib.logging.base import (
    DEFAULT_LOG_PATH,
    BaseLogger,
    FileLogger,
    StdoutLogger,
    level_number,
    make_record,
    redact_record,
    warn_stderr,
)
from lib.redact import Redactor, one_line


class Logger:
    def __init__(
        self,
        log_name: str = "etl",
        log_level: str | int = "INFO",
        log_path: str | os.PathLike[str] = DEFAULT_LOG_PATH,
        attach_default_stdout_logger: bool | None = None,
        attach_default_file_logger: bool = False,
        loggers: Iterable[BaseLogger] | None = None,
        context: Mapping[str, Any] | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self.log_name = log_name
        self.level = level_number(log_level)
        self.redactor = redactor or Redactor()
        self._context: dict[str, Any] = dict(context or {})
        self._sinks: list[BaseLogger] = []
        if attach_default_stdout_logger is None:
            attach_default_stdout_logger = loggers is None  # given sinks are the sinks
        if attach_default_stdout_logger:
            self.add_sink(StdoutLogger(log_name, log_level))
        if attach_default_file_logger:
            self.add_sink(FileLogger(log_name, log_level, log_path))
        for sink in loggers or ():
            self.add_sink(sink)

    # ------------------------------------------------------------------ sinks

    @property
    def sinks(self) -> tuple[BaseLogger, ...]:
        return tuple(self._sinks)

    def add_sink(self, sink: BaseLogger) -> BaseLogger:
        if not isinstance(sink, BaseLogger):
            raise TypeError(f"a sink is a lib.logging.BaseLogger, got {type(sink).__name__}")
        if not hasattr(sink, "_failure_lock"):
            raise TypeError(
                f"{type(sink).__name__}.__init__ must call super().__init__() (BaseLogger's)"
            )
        self._sinks.append(sink)
        return sink

    def remove_sink(self, sink: BaseLogger) -> None:
        self._sinks.remove(sink)

    def sink_failures(self) -> dict[str, int]:
        return {f"{i}:{type(s).__name__}": s.failures for i, s in enumerate(self._sinks)}

    def attach_to(self, other: logging.Logger) -> None:
        """Send records of a standard logger (e.g. logging.getLogger("lib")) to these sinks,
        redacted by this Logger; each sink's own level applies to them, as for any handler."""
        if not any(getattr(h, "logger", None) is self for h in other.handlers):
            other.addHandler(_StandardRecords(self))

    def detach_from(self, other: logging.Logger) -> None:
        for handler in list(other.handlers):
            if getattr(handler, "logger", None) is self:
                other.removeHandler(handler)

    def mask(self, value: str) -> None:
        """Redact this exact value from everything logged from now on."""
        self.redactor.mask(value)

    # ------------------------------------------------------------------ context

    @property
    def context(self) -> dict[str, Any]:
        return dict(self._context)

    def bind(self, **context: Any) -> Logger:
        """A logger that shares these sinks and adds `context` to every message."""
        child = object.__new__(Logger)
        child.log_name = self.log_name
        child.level = self.level
        child.redactor = self.redactor
        child._sinks = self._sinks
        child._context = {**self._context, **context}
        return child

    def set_level(self, log_level: str | int) -> None:
        """This Logger's level (loggers made by bind() before keep theirs)."""
        self.level = level_number(log_level)

    def is_enabled_for(self, log_level: str | int) -> bool:
        return level_number(log_level) >= self.level

    # ------------------------------------------------------------------ logging

    def _log(self, level: int, message: str, args: tuple, fields: dict[str, Any], exc_info=None):
        if level < self.level:
            return
        record = make_record(self.log_name, level, message, args, fields, self._context, exc_info)
        self._fan_out(record, sink_levels=False)  # this Logger's level decided

    def _fan_out(self, record: logging.LogRecord, sink_levels: bool) -> None:
        try:
            record = redact_record(record, self.redactor)
        except Exception as error:  # a value that cannot be redacted is not written as is
            record = make_record(
                record.name, record.levelno, "(a record was dropped: its %s could not be "
                "redacted: %s)", ("fields or context", type(error).__name__),
                context=self._context,
            )  # fmt: skip
            record = redact_record(record, self.redactor)
        for sink in self._sinks:
            if sink_levels and record.levelno < sink.level:
                continue
            try:
                sink.handle(record)
            except Exception as error:  # handle() isolates emit(); this covers filters
                try:
                    sink._count_failure(error)
                except Exception:  # a sink that skipped BaseLogger.__init__
                    warn_stderr(f"log sink {type(sink).__name__} failed: {one_line(error)}")

    def debug(self, message: str, *args: Any, **fields: Any) -> None:
        self._log(logging.DEBUG, message, args, fields)

    def info(self, message: str, *args: Any, **fields: Any) -> None:
        self._log(logging.INFO, message, args, fields)

    def warning(self, message: str, *args: Any, **fields: Any) -> None:
        self._log(logging.WARNING, message, args, fields)

    def error(self, message: str, *args: Any, **fields: Any) -> None:
        self._log(logging.ERROR, message, args, fields)

    def critical(self, message: str, *args: Any, **fields: Any) -> None:
        self._log(logging.CRITICAL, message, args, fields)

    def exception(self, message: str, *args: Any, **fields: Any) -> None:
        self._log(logging.ERROR, message, args, fields, exc_info=True)

    def flush(self) -> None:
        for sink in self._sinks:
            try:
                sink.flush()
            except Exception as error:  # a sink's failure stays its own
                sink._count_failure(error)

    def close(self) -> None:
        for sink in self._sinks:
            try:
                sink.flush()
                sink.close()
            except Exception as error:
                sink._count_failure(error)

    def __enter__(self) -> Logger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _StandardRecords(logging.Handler):
    """The handler attach_to() adds: a standard logger's records, redacted, to the sinks."""

    def __init__(self, logger: Logger) -> None:
        super().__init__(level=logging.NOTSET)
        self.logger = logger

    def handle(self, record: logging.LogRecord) -> bool:
        # no handler lock: each sink locks for itself. Holding one here while a sink flushes
        # would deadlock with the sink's sender thread, whose botocore records come back here
        if not self.filter(record):
            return False
        self.emit(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        self.logger._fan_out(record, sink_levels=True)

    def flush(self) -> None:
        self.logger.flush()
