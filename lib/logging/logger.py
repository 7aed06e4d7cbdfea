"""Logger: one message fanned out to several sinks, each with its own level, context as JSON.

    log = Logger(log_level="INFO", attach_default_file_logger=True, log_path="logs/job.log",
                 context={"job": "my_job", "env": "local", "app_id": spark_app_id})
    log.add_sink(aws.logs(log_group_name="/datalake-etl/dev", log_stream_name="my-job/driver"))
    log.info("read %d files", n, files=n)          # keyword arguments become JSON fields
    run_log = log.bind(run_id="2024-01-02")         # same sinks, more context

Built on the standard `logging` module: sinks are `logging.Handler`s (see BaseLogger) attached to
a private, non-propagating `logging.Logger`; `attach_to(logging.getLogger("py4j"))` sends another
logger's records to the same sinks. Secrets are redacted in every sink, including values
registered with :meth:`mask` (Secrets Manager reads register theirs).
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Iterable, Mapping
from typing import Any

from lib.logging.base import (
    CONTEXT_ATTR,
    FIELDS_ATTR,
    BaseLogger,
    FileLogger,
    StdoutLogger,
    level_number,
)
from lib.redact import Redactor

_IDS = itertools.count(1)


class Logger:
    def __init__(
        self,
        log_level: str | int = "INFO",
        loggers: Iterable[BaseLogger] | None = None,
        attach_default_stdout_logger: bool = True,
        attach_default_file_logger: bool = False,
        log_path: str | os.PathLike[str] | None = None,
        name: str = "etl",
        context: Mapping[str, Any] | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self.name = name
        self.redactor = redactor or Redactor()
        # A private logging.Logger, not registered in logging's global manager: two Logger
        # objects never share or leak handlers.
        self._logger = logging.Logger(f"{name}#{next(_IDS)}", level=level_number(log_level))
        self._logger.propagate = False
        self._context: dict[str, Any] = dict(context or {})
        self._sinks: list[BaseLogger] = []
        if attach_default_stdout_logger:
            self.add_sink(StdoutLogger(log_level))
        if attach_default_file_logger:
            if log_path is None:
                raise ValueError("attach_default_file_logger needs log_path")
            self.add_sink(FileLogger(log_path, log_level))
        for sink in loggers or ():
            self.add_sink(sink)

    # ------------------------------------------------------------------ sinks

    @property
    def sinks(self) -> tuple[BaseLogger, ...]:
        return tuple(self._sinks)

    def add_sink(self, sink: BaseLogger) -> BaseLogger:
        sink.use_redactor(self.redactor)
        self._sinks.append(sink)
        self._logger.addHandler(sink)
        return sink

    def remove_sink(self, sink: BaseLogger) -> None:
        self._sinks.remove(sink)
        self._logger.removeHandler(sink)

    def sink_failures(self) -> dict[str, int]:
        return {f"{i}:{type(s).__name__}": s.failures for i, s in enumerate(self._sinks)}

    def attach_to(self, other: logging.Logger) -> None:
        """Send records of a standard logger (e.g. logging.getLogger("lib")) to these sinks."""
        for sink in self._sinks:
            if sink not in other.handlers:
                other.addHandler(sink)

    def detach_from(self, other: logging.Logger) -> None:
        for sink in self._sinks:
            other.removeHandler(sink)

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
        child.name = self.name
        child.redactor = self.redactor
        child._logger = self._logger
        child._sinks = self._sinks
        child._context = {**self._context, **context}
        return child

    def set_level(self, log_level: str | int) -> None:
        self._logger.setLevel(level_number(log_level))

    # ------------------------------------------------------------------ logging

    def _log(self, level: int, message: str, args: tuple, fields: dict[str, Any], exc_info=None):
        if not self._logger.isEnabledFor(level):
            return
        extra = {CONTEXT_ATTR: self._context, FIELDS_ATTR: fields}
        self._logger.log(level, message, *args, exc_info=exc_info, extra=extra, stacklevel=3)

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
