"""Redaction of secrets (keys, tokens, passwords, Authorization values) from anything logged."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

REDACTED = "*****"

# The words that make a key name a secret's: the one list behind the redactor (keys in mappings
# and key=value pairs in text) and the config's refusal of secrets written as values. Matches
# Spark's own spark.redaction.regex and more; `credentials.provider` names a class, not a secret.
SENSITIVE_NAME_WORDS = (
    r"secret|password|passwd|pwd|passphrase|token|credential(?!s?\.provider)|access[._-]?key|"
    r"api[._-]?key|private[._-]?key|session[._-]?key|account[._-]?key|authorization|signature|"
    r"webhook"
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


def _leading_word(alternative: str) -> str:
    word = re.match(r"[a-z]+", alternative)
    if word is None:
        raise ValueError(f"a secret name word must start with a letter: {alternative!r}")
    return word.group()


class _Rule(NamedTuple):
    """A pattern, its replacement, and what any match of it holds: one of `literals` (in lower
    case; a match of an IGNORECASE pattern in any case), and ":" or "=" if `needs_separator`.
    They only let Redactor.text skip a pattern that cannot match; the pattern decides."""

    pattern: re.Pattern[str]
    replacement: Any  # a template, or a function of the match
    literals: tuple[str, ...]
    needs_separator: bool


# Secret-looking fragments inside free text (messages, exception strings, URLs), applied in
# this order, each to what the one before left.
_RULES = (
    # key=value / "key": "value" pairs whose key names a secret (a pair is redacted only when
    # its key matches SECRET_KEY_PATTERN: it holds the first word of one of its alternatives)
    _Rule(
        _PAIR,
        _redact_pair,
        tuple(_leading_word(word) for word in SENSITIVE_NAME_WORDS.split("|")),
        True,
    ),
    # Authorization headers and bearer/basic credentials
    _Rule(
        re.compile(r"(?i)(\"?authorization\"?\s*[:=]\s*\"?)([^\"\s,}]+(?: [^\"\s,}]+)?)"),
        r"\1" + REDACTED,
        ("authorization",),
        True,
    ),
    _Rule(
        re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"),
        r"\1 " + REDACTED,
        ("bearer", "basic"),
        False,
    ),
    # PEM private keys (a block, or what is left of one cut short)
    _Rule(
        re.compile(
            r"-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----.*?"
            r"(?:-----END ([A-Z0-9]+ )*PRIVATE KEY-----|\Z)",
            re.DOTALL,
        ),
        "-----BEGIN PRIVATE KEY----- " + REDACTED,
        ("private key",),
        False,
    ),
    # AWS access key ids, Slack webhooks, URL user:password@
    _Rule(re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), REDACTED, ("akia", "asia"), False),
    _Rule(
        re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]+"),
        "https://hooks.slack.com/" + REDACTED,
        ("://",),
        True,
    ),
    _Rule(
        re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+@"),
        r"\1" + REDACTED + "@",
        ("://",),
        True,
    ),
)


def _folded(text: str) -> str:
    """`text` lower-cased so that a literal an IGNORECASE pattern matches in `text` is a plain
    substring of the result. Beyond str.lower(), ``re`` matches U+0131 (dotless i) and U+0130
    (I with a dot, which lowers to "i" + U+0307) as "i", and U+017F (long s) as "s"; U+212A
    (the Kelvin sign) lowers to "k". No other character matches an ASCII letter."""
    folded = text.lower()
    if not folded.isascii():
        folded = folded.replace("\u0307", "").replace("\u0131", "i").replace("\u017f", "s")
    return folded


def _has_separator(text: str) -> bool:
    return ":" in text or "=" in text


# every literal of every rule, and of those that need no separator: when none is in a text, no
# rule can match it (the common case, decided without running a pattern)
_LITERALS = tuple(dict.fromkeys(literal for rule in _RULES for literal in rule.literals))
_UNSEPARATED_LITERALS = tuple(
    dict.fromkeys(
        literal for rule in _RULES if not rule.needs_separator for literal in rule.literals
    )
)


class Redactor:
    """Removes secrets from text: known secret values (`mask`) and secret-looking patterns."""

    def __init__(self, values: tuple[str, ...] = ()) -> None:
        self._values: set[str] = {value for value in values if len(value) >= 4}
        self._longest_first = self._ordered()

    def _ordered(self) -> tuple[str, ...]:
        return tuple(sorted(self._values, key=len, reverse=True))

    def mask(self, value: str) -> None:
        """Redact this exact value wherever it appears from now on (values under 4 chars are
        ignored: they would blank out ordinary words)."""
        if value and len(value) >= 4 and value not in self._values:
            self._values.add(value)
            self._longest_first = self._ordered()

    def text(self, text: str) -> str:
        for value in self._longest_first:
            if value in text:
                text = text.replace(value, REDACTED)
        # Each rule runs on what the one before left, as a chain of re.sub calls would. A rule
        # whose pattern cannot match that text (no separator when it needs one, none of its
        # literals) is skipped: that saves the time of the search and changes nothing else.
        separated = ":" in text or "=" in text  # _has_separator, inline: once per record
        folded = _folded(text)
        for literal in _LITERALS if separated else _UNSEPARATED_LITERALS:
            if literal in folded:
                break
        else:
            return text  # no rule can match
        for pattern, replacement, literals, needs_separator in _RULES:
            if needs_separator and not separated:
                continue
            if folded is None:
                folded = _folded(text)
            for literal in literals:
                if literal in folded:
                    break
            else:
                continue
            text, count = pattern.subn(replacement, text)
            if count:
                separated, folded = _has_separator(text), None
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
