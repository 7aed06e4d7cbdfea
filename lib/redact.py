"""Redaction of secrets (keys, tokens, passwords, Authorization values) from anything logged."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

REDACTED = "*****"

# The words that make a key name a secret's: the one list behind the redactor (keys in mappings
# and key=value pairs in text) and the config's refusal of secrets written as values. Matches
# Spark's own spark.redaction.regex and more; `credentials.provider` and
# `CredentialsProvider` name a class, not a secret. Each word with the literal every match of
# it holds (in lower case): Redactor.text skips the key=value rule for a text that holds none
# of them. These count anywhere in a key, in any case.
_NAME_WORDS = (
    ("secret", "secret"),
    ("password", "password"),
    ("passwd", "passwd"),
    ("pwd", "pwd"),
    ("passphrase", "passphrase"),
    (r"pass[._-](?:word|phrase)", "pass"),
    ("token", "token"),
    (r"credential(?!s?[._-]?provider)", "credential"),
    (r"access[._-]?key", "access"),
    (r"api[._-]?key", "api"),
    (r"private[._-]?key", "private"),
    (r"session[._-]?key", "session"),
    (r"account[._-]?key", "account"),
    (r"auth[._-]?(?:key|code)", "auth"),
    (r"jwt[._-]?key", "jwt"),
    (r"cookie[._-]?key", "cookie"),
    ("authorization", "authorization"),
    ("signature", "signature"),
    ("webhook", "webhook"),
)
# Short words, which are also parts of other words and names: they count only as the last word
# of a key (`db_pass`, `DB_PASS`, `x-auth`, `dbPass`, `DBPass`, `basicAuth`, `-Dpass`, `Cookie`,
# `creds`), not inside another word (`passenger`, `author`, `oauth`, `credit`, `DBPASS`) nor
# before one (`auth.user`, `auth_type`, `cookie.domain`, `pass_count`, `jwt.issuer`). A word
# starts after a character that is no letter, at a capital after a small letter (camelCase) or
# after an acronym (`LDAPAuth`, `SSOPass`; not `OAuth`), or after a JVM property's `-D`.
_SHORT_WORDS = (
    ("pass", ""),
    ("pw", ""),
    ("auth", ""),
    ("cred", "s?"),
    ("cookie", "s?"),
    ("jwt", ""),
)
_WORD_START = r"(?:(?<![A-Za-z])|(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=(?<![\w.-])-D))"
_LAST_WORD_END = r"(?=[^A-Za-z]*$)"
_NOT_AFTER = {"auth": "(?<!O)"}  # OAuth names a protocol, not a secret


def _key_pattern(short_words: tuple[tuple[str, str], ...]) -> re.Pattern[str]:
    return re.compile(
        "|".join(
            [f"(?i:{word})" for word, _ in _NAME_WORDS]
            + [
                f"{_WORD_START}{_NOT_AFTER.get(word, '')}(?i:{word}{plural}){_LAST_WORD_END}"
                for word, plural in short_words
            ]
        )
    )


SECRET_KEY_PATTERN = _key_pattern(_SHORT_WORDS)
# `auth` as a key's last word names a mode or a switch as often as a secret
# (`spark.ssl.needClientAuth: 'true'`, HiveServer2's `;auth=noSasl`, but spark-redis's
# `spark.redis.auth: <password>`): under a key that only `auth` names, the config takes these
# values (is_secret_config_key). Logs blank them all the same (more is blanked, never less).
_KEY_PATTERN_BUT_AUTH = _key_pattern(tuple(w for w in _SHORT_WORDS if w[0] != "auth"))
AUTH_MODES = frozenset(
    {"true", "false", "yes", "no", "on", "off", "none", "nosasl", "noauth", "sasl", "kerberos",
     "ldap", "pam", "simple", "custom", "iam", "basic", "digest", "oauth", "oauth2", "anonymous",
     "delegation", "required", "optional", "disabled", "enabled", "1", "0"}
)  # fmt: skip
_KEY_LITERALS = tuple(
    dict.fromkeys([literal for _, literal in _NAME_WORDS] + [w for w, _ in _SHORT_WORDS])
)
_CACHED_KEY_LENGTH = 128  # 4,096 cached keys up to this long: about 0.7 MB (2.2 MB if not ASCII)


def is_secret_key(key: str) -> bool:
    """Whether `key` names a secret (SECRET_KEY_PATTERN). Short keys, the same field, context
    and conf keys record after record, are remembered; a longer one is first checked for the
    words' literals (a search of the pattern costs about 0.5 µs per character)."""
    if len(key) <= _CACHED_KEY_LENGTH:
        return _is_secret_short_key(key)
    folded = _folded(key)
    if not any(literal in folded for literal in _KEY_LITERALS):
        return False
    return bool(SECRET_KEY_PATTERN.search(key))


@functools.lru_cache(maxsize=4096)
def _is_secret_short_key(key: str) -> bool:
    return bool(SECRET_KEY_PATTERN.search(key))


def is_secret_config_key(key: str, value: object = None) -> bool:
    """Whether a config key with this value holds a secret: its name is a secret's, unless
    only `auth` names it and the value is a mode or a switch (AUTH_MODES)."""
    if not is_secret_key(key):
        return False
    if _KEY_PATTERN_BUT_AUTH.search(key):
        return True
    mode = value if isinstance(value, str | int) and not isinstance(value, bool) else None
    return not (mode is not None and str(mode).strip().lower() in AUTH_MODES)


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


# a key and its separator, for any key=value / "key": "value" / key := value / key => value /
# key -> value (Scala's Map) pair, quotes escaped too (JSON inside a JSON string, up to 16
# backslashes): _redact_pairs decides whether the key names a secret. One run of key
# characters per start (no nested stars): linear time on any input.
_PAIR = re.compile(r"(?<![\w.-])(\\{0,16}[\"']?)([\w.-]+)(\\{0,16}[\"']?\s*(?::=|[:=]>?|->)\s*)")
_EXCEPTION_TYPE = re.compile(r"[A-Z][A-Za-z0-9]*(?:Error|Exception|Warning)")
_SOURCE_FILE_SUFFIXES = frozenset({"java", "scala", "py", "kt"})
# A secret's value goes whole (more is blanked, never less):
# - quoted: to its closing quote, backslash escapes kept inside (an unclosed one to the end of
#   the line), so a secret with spaces or commas goes; with escaped quotes (\"...\", JSON in a
#   JSON string, up to 16 backslashes), to the same escaped quote not escaped once more;
# - a tuple, list or mapping (`auth=('etl', 'pw')`, `"creds": [...]`, pretty-printed JSON over
#   several lines): to its matching closing bracket, quotes honoured, brackets counted;
# - after those, the rest of the word up to a space or `, ; & ) ] }`, through further quoted
#   or bracketed parts (`"pa55"word`, SQL's `'a''b c'`, the shell's `'a'\''b c'`);
# - a cookie header's (`Cookie: a=1; sid=...`, `HTTP_COOKIE=...`): to the end of the line
#   (when quoted, to its closing quote unless a `;` follows);
# - anything else: to the next white space, through quoted or bracketed parts inside it as
#   above (`b'a b'`, `Some(a b)`; `-Dtrust.password=a,b`, `password=p;w&rd&x=1`), a comma or
#   semicolon ending it left (`password -> x, user -> y`).
_QUOTED_VALUES = {
    '"': re.compile(r'"(?:[^"\\\n]|\\.)*"?'),
    "'": re.compile(r"'(?:[^'\\\n]|\\.)*'?"),
}
_ESCAPED_QUOTE = re.compile(r"\\{1,16}[\"']")
_BRACKET_TOKENS = re.compile(
    r"""'(?:[^'\\\n]|\\.)*'?|"(?:[^"\\\n]|\\.)*"?|[()\[\]{}]|[^'"()\[\]{}]+"""
)
_PLAIN_WORD = re.compile(r"""[^\s'"(\[{\\]+""")  # up to white space or an opener
_PLAIN_TAIL = re.compile(r"""[^\s'"(\[{\\,;&)\]}]+""")  # the same, and `, ; & ) ] }`
_COOKIE_HEADER = re.compile(r"(?i)cookies?2?$")
_BACKSLASHES = re.compile(r"\\+")
_CLOSERS = {'"': '"', "'": "'", "(": ")", "[": "]", "{": "}"}


@functools.lru_cache(maxsize=64)
def _escaped_closing(opener: str) -> re.Pattern[str]:
    """The end of a line, or `opener` (backslashes and a quote) not escaped once more."""
    return re.compile(r"\n|(?<!\\)" + re.escape(opener))


def _names_secret(pair: re.Match[str]) -> bool:
    key, separator = pair.group(2), pair.group(3)
    if not is_secret_key(key):
        return False
    separator = separator.lstrip("\\\"'")
    if not separator.startswith(":") or separator.startswith(":="):
        return True
    # "NoCredentialsError: <message>", "org.apache...NoAuthWithAWSException: ...": a type, then
    # its text; "(AssumedRoleCredentialProvider.java:123)": a stack frame's file and line
    last = key.rpartition(".")[2]
    return not (_EXCEPTION_TYPE.fullmatch(last) or last in _SOURCE_FILE_SUFFIXES)


def _part_end(text: str, start: int) -> int | None:
    """The end of the quoted or bracketed part that opens at `start`, or None."""
    first = text[start]
    if first in _QUOTED_VALUES:
        return _QUOTED_VALUES[first].match(text, start).end()  # type: ignore[union-attr]
    if first == "\\":
        escaped = _ESCAPED_QUOTE.match(text, start)
        if escaped is None:
            return None
        closing = _escaped_closing(escaped.group()).search(text, escaped.end())
        if closing is None:
            return len(text)
        return closing.start() if closing.group() == "\n" else closing.end()
    if first in "([{":
        open_brackets: list[str] = []
        for token in _BRACKET_TOKENS.finditer(text, start):
            bracket = token.group()
            if bracket in ("(", "[", "{"):
                open_brackets.append(_CLOSERS[bracket])
            elif bracket in (")", "]", "}") and bracket == open_brackets[-1]:
                open_brackets.pop()
                if not open_brackets:
                    return token.end()
        return len(text)
    return None


def _word_end(text: str, start: int, plain: re.Pattern[str]) -> int:
    """From `start`, the end of a word of plain runs (`plain`) and quoted or bracketed parts.
    A word that started unquoted (_PLAIN_WORD) runs to white space, less the `, ; & ) ] }` that
    end it after its last part (`b'a b'},` ends before the `}`)."""
    position = start
    unquoted, part_end = plain is _PLAIN_WORD, start
    while position < len(text) and not text[position].isspace():
        end = _part_end(text, position)
        if end is not None:
            part_end = end
        else:
            run = plain.match(text, position)
            if run is not None:
                end = run.end()
            elif text[position] == "\\":  # backslashes that escape no quote (up to 16 before one)
                end = _BACKSLASHES.match(text, position).end()  # type: ignore[union-attr]
                if text.startswith(('"', "'"), end):
                    end = max(position + 1, end - 16)
            else:  # a stop of _PLAIN_TAIL
                break
        position = end
    if unquoted and part_end > start:  # `b'a b'},` : a mapping's or a list's closers left
        while position > part_end and text[position - 1] in ",;&)]}":
            position -= 1
    return position


def _value_end(text: str, start: int, key: str) -> int:
    """Where the value of the secret named `key` that starts at `start` ends (see above)."""
    if start >= len(text):
        return start
    cookie = _COOKIE_HEADER.search(key)
    part = _part_end(text, start)
    read = start
    if part is not None:
        end = _word_end(text, part, _PLAIN_TAIL)
        if not (cookie and text.startswith(";", end)):
            return end
        read = end
    if cookie:
        newline = text.find("\n", read)
        return len(text) if newline < 0 else newline
    end = _word_end(text, start, _PLAIN_WORD)
    if end - start > 1 and text[end - 1] in ",;":
        return end - 1
    return end


def _blank(value: str) -> str:
    """`value` blanked, its quotes or brackets kept (when it has both ends and nothing after)."""
    escaped = _ESCAPED_QUOTE.match(value)
    opening = escaped.group() if escaped else value[:1]
    closing = _CLOSERS.get(opening[-1:])
    if closing is None:
        return REDACTED
    closing = opening[:-1] + closing  # the same backslashes before an escaped quote
    if len(value) >= len(opening) + len(closing) and value.endswith(closing):
        return f"{opening}{REDACTED}{closing}"
    if closing in value[len(opening) :]:  # closed, then more of the word (`"pa55"word`)
        return REDACTED
    return f"{opening}{REDACTED}"  # never closed


def _redact_pairs(text: str) -> tuple[str, int]:
    """`text` with the value of every pair whose key names a secret blanked, and the number
    blanked. Every pair is looked at, the search going on right after each separator, so a
    value that is not a secret is still searched (`url=jdbc:x://h/db?user=u&password=p`); a
    pair inside a value just blanked is skipped. Only a secret's value is read to its end
    (reading every value to its end would take time n² on `a=a=a=...`)."""
    pieces: list[str] = []
    done = 0
    for pair in _PAIR.finditer(text):
        if pair.start() < done or not _names_secret(pair):
            continue
        start = pair.end()
        end = _value_end(text, start, pair.group(2))
        if end <= start:
            continue
        pieces += [text[done:start], _blank(text[start:end])]
        done = end
    if not pieces:
        return text, 0
    pieces.append(text[done:])
    return "".join(pieces), len(pieces) // 2


# characters a rule may need: every match of a rule with marks holds at least one of its marks
_MARK_CHARACTERS = ":=_-.>"


def _marks_in(text: str) -> int:
    """Which of _MARK_CHARACTERS `text` holds, as bits (one substring scan each, in C)."""
    return (
        (":" in text)
        | ("=" in text) << 1
        | ("_" in text) << 2
        | ("-" in text) << 3
        | ("." in text) << 4
        | (">" in text) << 5
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
    # bearer/basic credentials first: a pair's value stops at the space after `Bearer`
    # (`token=Bearer abc`, `X-Auth: Bearer abc`)
    _rule(
        _replacing(re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + REDACTED),
        ("bearer", "basic"),
        "",
    ),
    # key=value / "key": "value" pairs whose key names a secret (a pair is redacted only when
    # its key matches SECRET_KEY_PATTERN: it holds the literal of one of its words)
    _rule(_redact_pairs, _KEY_LITERALS, ":=>"),
    # Authorization headers
    _rule(
        _replacing(
            re.compile(r"(?i)(\"?authorization\"?\s*[:=]\s*\"?)([^\"\s,}]+(?: [^\"\s,}]+)?)"),
            r"\1" + REDACTED,
        ),
        ("authorization",),
        ":=",
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
    # tokens of a known shape: GitHub (ghp_ and its kin, github_pat_), Slack (xoxb-, xoxp-,
    # xoxe.xoxp-, ..., xapp-), JSON Web Tokens (a header and a payload, each base64url JSON:
    # "eyJ"). A Slack token or a JWT starts a run of its characters: one start per run, so
    # `xoxb-xoxb-...` and `eyJ-eyJ-...` take linear time
    _rule(
        _replacing(re.compile(r"gh[pousr]_[A-Za-z0-9]{36,}"), REDACTED),
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
        "_",
    ),
    _rule(_replacing(re.compile(r"github_pat_\w{22,}"), REDACTED), ("github_pat_",), "_"),
    _rule(
        _replacing(
            re.compile(r"(?<![\w.-])(?:xox[a-z](?:\.xox[a-z])?|xapp)-[A-Za-z0-9-]{10,}"), REDACTED
        ),
        ("xox", "xapp"),
        "-",
    ),
    _rule(
        _replacing(re.compile(r"(?<![\w-])eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]*"), REDACTED),
        ("eyj",),
        ".",
    ),
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
            # the scheme starts a run of its characters: one start per run (linear time on
            # `a.a.a...://`); the user may be empty (`redis://:password@host`)
            re.compile(r"(?i)(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+@"),
            r"\1" + REDACTED + "@",
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
