"""Redaction of secrets (keys, tokens, passwords, Authorization values) from anything logged."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

REDACTED = "*****"

# The words that make a key name a secret's: the one list behind the redactor (keys in mappings
# and key=value pairs in text) and the config's refusal of secrets written as values. Matches
# Spark's own spark.redaction.regex and more; `credentials.provider` names a class, not a secret.
SENSITIVE_NAME_WORDS = (
    r"secret|password|passwd|token|credential(?!s?\.provider)|access[._-]?key|api[._-]?key|"
    r"private[._-]?key|session[._-]?key|account[._-]?key|authorization|signature|webhook"
)
SECRET_KEY_PATTERN = re.compile(f"(?i)({SENSITIVE_NAME_WORDS})")


def is_secret_key(key: str) -> bool:
    return bool(SECRET_KEY_PATTERN.search(key))


def redact_mapping(values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `values` with every secret-named entry replaced, recursively."""
    redacted: dict[str, Any] = {}
    for key, value in values.items():
        if is_secret_key(str(key)) and value not in (None, ""):
            redacted[key] = REDACTED
        elif isinstance(value, Mapping):
            redacted[key] = redact_mapping(value)
        else:
            redacted[key] = value
    return redacted


# Secret-looking fragments inside free text (messages, exception strings, URLs).
_TEXT_PATTERNS = (
    # Authorization headers and bearer/basic credentials
    (
        re.compile(r"(?i)(\"?authorization\"?\s*[:=]\s*\"?)([^\"\s,}]+(?: [^\"\s,}]+)?)"),
        r"\1" + REDACTED,
    ),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + REDACTED),
    # key=value / "key": "value" pairs whose key names a secret: see _redact_pair
    # AWS access key ids, Slack webhooks, URL user:password@
    (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), REDACTED),
    (
        re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]+"),
        "https://hooks.slack.com/" + REDACTED,
    ),
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+@"), r"\1" + REDACTED + "@"),
)


# any key=value / "key": "value" pair; _redact_pair decides whether its key names a secret. One
# run of key characters per start (no nested stars): linear time on any input.
_PAIR = re.compile(r"(?<![\w.-])([\"']?)([\w.-]+)([\"']?\s*[:=]\s*[\"']?)([^\"'\s,;&}]+)")
_EXCEPTION_TYPE = re.compile(r"[A-Z][A-Za-z0-9]*(?:Error|Exception|Warning)")


def _redact_pair(match: re.Match[str]) -> str:
    key, separator = match.group(2), match.group(3)
    if not SECRET_KEY_PATTERN.search(key):
        return match.group(0)
    if separator.lstrip("\"'").startswith(":") and _EXCEPTION_TYPE.fullmatch(key):
        return match.group(0)  # "NoCredentialsError: <message>": a type, then its text
    return f"{match.group(1)}{key}{separator}{REDACTED}"


class Redactor:
    """Removes secrets from text: known secret values (`mask`) and secret-looking patterns."""

    def __init__(self, values: tuple[str, ...] = ()) -> None:
        self._values: set[str] = {value for value in values if len(value) >= 4}

    def mask(self, value: str) -> None:
        """Redact this exact value wherever it appears from now on (values under 4 chars are
        ignored: they would blank out ordinary words)."""
        if value and len(value) >= 4:
            self._values.add(value)

    def text(self, text: str) -> str:
        for value in sorted(self._values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, REDACTED)
        text = _PAIR.sub(_redact_pair, text)
        for pattern, replacement in _TEXT_PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def value(self, value: Any, key: str | None = None) -> Any:
        """Redact a structured value: secret-named keys blanked, strings scrubbed, recursively."""
        if key is not None and is_secret_key(key) and value not in (None, ""):
            return REDACTED
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {k: self.value(v, str(k)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(item) for item in value]
        return value


def one_line(
    error: BaseException,
    limit: int = 500,
    redactor: Redactor | None = None,
    with_type: bool = True,
) -> str:
    """``Type: message`` redacted, then on one line, then cut to `limit` characters. Redaction
    comes first: a secret cut in two, or a multi-line one whose line breaks were folded, would
    no longer match."""
    try:
        message = str(error)
    except Exception as unreadable:  # e.g. a Py4J error whose JVM is gone
        message = f"(its message could not be read: {type(unreadable).__name__})"
    text = f"{type(error).__name__}: {message}" if with_type else message
    return " ".join((redactor or Redactor()).text(text).split())[:limit]
