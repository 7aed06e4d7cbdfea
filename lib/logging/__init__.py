"""Composable logging: one Logger, several sinks (stdout, file, CloudWatch), redacted JSON."""

from lib.logging.base import BaseLogger, FileLogger, JsonFormatter, StdoutLogger, TextFormatter
from lib.logging.logger import Logger

__all__ = ["BaseLogger", "FileLogger", "JsonFormatter", "Logger", "StdoutLogger", "TextFormatter"]
