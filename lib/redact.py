"""Redaction of secrets (keys, tokens, passwords, Authorization values) from anything logged."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

REDACTED = "*****"

# The words that make a key name a secret's: the one list behind the redactor (keys in mappings
# and key=value pairs in text) and the config's refusal of secrets written as values. Matches
# Spark's own spark.redaction.regex and more; `credentials.provider` names a class, not a secret.
# Each word with the literal every match of it holds (in lower case): Redactor.text skips the
# key=value rule for a text that holds none of them. The short words count only as words of
# their own (`db_pass`, `x-auth`, `creds`; not `passenger`, `author`, `credit`), and `auth`
# not when it names a kind (`auth_type`, `auth.method`).
_NAME_WORDS = (
    ("secret", "secret"),
    ("password", "password"),
    ("passwd", "passwd"),
    ("pwd", "pwd"),
    ("passphrase", "passphrase"),
    ("token", "token"),
    (r"credential(?!s?\.provider)", "credential"),
    (r"access[._-]?key", "access"),
    (r"api[._-]?key", "api"),
    (r"private[._-]?key", "private"),
    (r"session[._-]?key", "session"),
    (r"account[._-]?key", "account"),
    ("authorization", "authorization"),
    ("signature", "signature"),
    ("webhook", "webhook"),
    (r"(?<![a-z])pass(?![a-z])", "pass"),
    (r"(?<![a-z])pw(?![a-z])", "pw"),
    (r"(?<![a-z])auth(?![a-z]|[._-]?(?:type|method|mode|scheme|provider))", "auth"),
    (r"(?<![a-z])creds?(?![a-z])", "cred"),
    (r"(?<![a-z])cookies?(?![a-z])", "cookie"),
    (r"(?<![a-z])jwt(?![a-z])", "jwt"),
)
SENSITIVE_NAME_WORDS = "|".join(word for word, _ in _NAME_WORDS)
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


# a key and its separator, for any key=value / "key": "value" pair: _redact_pairs decides
# whether the key names a secret. One run of key characters per start (no nested stars):
# linear time on any input.
_PAIR = re.compile(r"(?<![\w.-])([\"']?)([\w.-]+)([\"']?\s*[:=]\s*)")
# a secret's value: a quoted one runs to its closing quote (backslash escapes kept inside; an
# unclosed one to the end of the line), so a secret with spaces or commas goes whole; an
# unquoted one runs to the next space or quote, so `-Dtrust.password=a,b` and `password=p;w&rd`
# go whole too (what follows the secret in the same word, `&user=x`, goes with it: more is
# blanked, never less)
_VALUE = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"?|'(?:[^'\\\n]|\\.)*'?|[^\"'\s]+")
_EXCEPTION_TYPE = re.compile(r"[A-Z][A-Za-z0-9]*(?:Error|Exception|Warning)")


def _names_secret(pair: re.Match[str]) -> bool:
    key, separator = pair.group(2), pair.group(3)
    if not SECRET_KEY_PATTERN.search(key):
        return False
    # "NoCredentialsError: <message>": a type, then its text
    return not (separator.lstrip("\"'").startswith(":") and _EXCEPTION_TYPE.fullmatch(key))


def _redact_pairs(text: str) -> tuple[str, int]:
    """`text` with the value of every pair whose key names a secret blanked (its quotes kept),
    and the number blanked. The search goes on right after each pair's separator, so a value
    that is not a secret is still searched (`url=jdbc:x://h/db?user=u&password=p`)."""
    pieces: list[str] = []
    done = position = 0
    while (pair := _PAIR.search(text, position)) is not None:
        position = pair.end()
        if not _names_secret(pair):
            continue  # its value is not read: read to its end each time, that would be O(n²)
        value = _VALUE.match(text, position)
        if value is None:
            continue
        found = value.group()
        quote = found[0] if found[0] in "\"'" else ""
        closing = quote if len(found) > 1 and found.endswith(quote) else ""
        pieces += [text[done:position], quote, REDACTED, closing]
        done = position = value.end()
    if not pieces:
        return text, 0
    pieces.append(text[done:])
    return "".join(pieces), len(pieces) // 4


# characters a rule may need: every match of a rule with marks holds at least one of its marks
_MARK_CHARACTERS = ":=_-."


def _marks_in(text: str) -> int:
    """Which of _MARK_CHARACTERS `text` holds, as bits (one substring scan each, in C)."""
    return (
        (":" in text)
        | ("=" in text) << 1
        | ("_" in text) << 2
        | ("-" in text) << 3
        | ("." in text) << 4
    )


class _Rule(NamedTuple):
    """How to redact one kind of secret in a text (`apply`: the text redacted, and the number of
    secrets found), and what any secret it finds holds: one of `literals` (in lower case; a match
    of an IGNORECASE pattern in any case), and one of the characters in `marks` (bits of
    _MARK_CHARACTERS; 0: none needed). They only let Redactor.text skip a rule that cannot find
    anything; the rule decides."""

    apply: Callable[[str], tuple[str, int]]
    literals: tuple[str, ...]
    marks: int


def _rule(apply: Callable[[str], tuple[str, int]], literals: tuple[str, ...], marks: str) -> _Rule:
    return _Rule(
        apply, _shortest(literals), sum(1 << _MARK_CHARACTERS.index(mark) for mark in marks)
    )


def _shortest(literals: Iterable[str]) -> tuple[str, ...]:
    """`literals` without those that hold another of them (a text that holds "password" holds
    "pass"): the same texts hold one of them, with fewer scans."""
    unique = tuple(dict.fromkeys(literals))
    return tuple(
        literal
        for literal in unique
        if not any(other != literal and other in literal for other in unique)
    )


def _replacing(pattern: re.Pattern[str], replacement: str) -> Callable[[str], tuple[str, int]]:
    return functools.partial(pattern.subn, replacement)


# Secret-looking fragments inside free text (messages, exception strings, URLs), applied in
# this order, each to what the one before left.
_RULES = (
    # key=value / "key": "value" pairs whose key names a secret (a pair is redacted only when
    # its key matches SECRET_KEY_PATTERN: it holds the literal of one of its words)
    _rule(_redact_pairs, tuple(literal for _, literal in _NAME_WORDS), ":="),
    # Authorization headers and bearer/basic credentials
    _rule(
        _replacing(
            re.compile(r"(?i)(\"?authorization\"?\s*[:=]\s*\"?)([^\"\s,}]+(?: [^\"\s,}]+)?)"),
            r"\1" + REDACTED,
        ),
        ("authorization",),
        ":=",
    ),
    _rule(
        _replacing(re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + REDACTED),
        ("bearer", "basic"),
        "",
    ),
    # PEM private keys (a block, or what is left of one cut short)
    _rule(
        _replacing(
            re.compile(
                r"-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----.*?"
                r"(?:-----END ([A-Z0-9]+ )*PRIVATE KEY-----|\Z)",
                re.DOTALL,
            ),
            "-----BEGIN PRIVATE KEY----- " + REDACTED,
        ),
        ("private key",),
        "-",
    ),
    # AWS access key ids
    _rule(_replacing(re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), REDACTED), ("akia", "asia"), ""),
    # tokens of a known shape: GitHub (ghp_ and its kin, github_pat_), Slack (xoxb-, xoxp-, ...,
    # xapp-), JSON Web Tokens (a header and a payload, each base64url JSON: "eyJ")
    _rule(
        _replacing(re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_\w{22,})"), REDACTED),
        ("gh", "github_pat_"),
        "_",
    ),
    _rule(
        _replacing(re.compile(r"\b(?:xox[abposr]|xapp)-[A-Za-z0-9-]{10,}"), REDACTED),
        ("xox", "xapp"),
        "-",
    ),
    _rule(_replacing(re.compile(r"\beyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]*"), REDACTED), ("eyj",), "."),
    # Slack webhooks, URL user:password@
    _rule(
        _replacing(
            re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]+"),
            "https://hooks.slack.com/" + REDACTED,
        ),
        ("://",),
        ":",
    ),
    _rule(
        _replacing(
            re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+@"), r"\1" + REDACTED + "@"
        ),
        ("://",),
        ":",
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


# for each set of marks a text holds (bits of _MARK_CHARACTERS), the literals of the rules that
# can find something in it: when none is in a text, no rule can (the common case, decided
# without running a pattern)
_LITERALS_FOR_MARKS = tuple(
    _shortest(
        literal
        for rule in _RULES
        if not rule.marks or rule.marks & present
        for literal in rule.literals
    )
    for present in range(1 << len(_MARK_CHARACTERS))
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
        # that cannot find anything in that text (none of its marks, none of its literals) is
        # skipped: that saves the time of the search and changes nothing else.
        present = _marks_in(text)
        folded = _folded(text)
        for literal in _LITERALS_FOR_MARKS[present]:
            if literal in folded:
                break
        else:
            return text  # no rule can match
        for apply, literals, marks in _RULES:
            if marks and not marks & present:
                continue
            if folded is None:
                folded = _folded(text)
            for literal in literals:
                if literal in folded:
                    break
            else:
                continue
            text, count = apply(text)
            if count:
                present, folded = _marks_in(text), None
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
