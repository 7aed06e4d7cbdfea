"""Redaction of secrets (keys, tokens, passwords, Authorization values) from anything logged."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

REDACTED = "*****"

# Key names whose values are secrets. Matches Spark's own spark.redaction.regex and more.
SECRET_KEY_PATTERN = re.compile(
    r"(?i)(secret|password|passwd|token|credential(?!s?\.provider)|access[._-]?key|"
    r"api[._-]?key|private[._-]?key|session[._-]?key|authorization|signature|webhook)"
)


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
