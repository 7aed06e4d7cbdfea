"""The per-call path of the sinks (issue 15): its shortcuts change nothing but the time taken.

Redaction skips a pattern that cannot match (none of its literals, no separator); a sink
formats a record itself instead of a redacted copy when its standard formatter makes the same
line of both; an ASCII message is counted without encoding it. Each test below compares with
the long way, or checks the result the long way gave.
"""

from __future__ import annotations

import logging
import random
import sys

import boto3
import pytest

from lib.logging.base import (
    FIELDS_ATTR,
    REDACTED_ATTR,
    BaseLogger,
    JsonFormatter,
    record_to_format,
    redact_record,
)
from lib.logging.cloudwatch import EVENT_OVERHEAD_BYTES, MAX_EVENT_BYTES, CloudwatchLogs
from lib.redact import _RULES, REDACTED, Redactor
from tests.lib.logging import GROUP, in_threads


def redacted_the_long_way(text: str, masked: tuple[str, ...] = ()) -> str:
    """Every mask, then every pattern, unconditionally: what Redactor.text did before."""
    for value in sorted(masked, key=len, reverse=True):
        text = text.replace(value, REDACTED)
    for rule in _RULES:
        text, _ = rule.apply(text)
    return text


# fragments that make (or nearly make) a match; U+017F (long s), U+0131 (dotless i), U+0130
# (I with a dot) and U+212A (Kelvin sign) are matched by re's IGNORECASE as "s", "i" and "k",
# which is not what str.lower() makes of all of them
FRAGMENTS = [
    "password", "PassWord", "pa\u017f\u017fword", "passwd", "secret", "SECRET", "token",
    "to\u212aen", "TOKEN", "credential", "credent\u0130al", "credent\u0131al", "credentials",
    "credentials.provider", "api_key", "api-key", "apikey", "Api.Key", "access_key",
    "accesskey", "session.key", "account-key", "private_key", "authorization",
    "Authorization", "AUTHORIZATION", "signature", "webhook", "bearer", "Bearer", "BASIC",
    "ba\u017fic", "ba\u017f\u0131c", "AKIA", "ASIA", "AKIAIOSFODNN7EXAMPLE",
    "ASIAIOSFODNN7EXAMPLE", "akiaiosfodnn7example", "https://hooks.slack.com/services/T0/B0/xz",
    "https://", "postgres://user:pw@host/db", "s3://bucket/key", "://", "NoCredentialsError",
    "=", ":", " = ", ": ", '"', "'", " ", "  ", "\t", "\n", ",", ";", "&", "}", "{", "abc12345",
    "hunter2-long", "x", "xxxxxxxxxx", "é", "€", "日本", "\udcff", ".", "-", "_", "0123",
    "pwd", "PWD", "passphrase", "-----BEGIN ", "PRIVATE KEY-----", "RSA ", "-----END ",
    "private key", "MIIEvQIBADANBgkq", "pass", "PASS", "pa\u017f\u017f", "auth", "AUTH",
    "auth_type", "author", "creds", "cred", "cookie", "Cookies", "jwt", "pw", "PW", "passenger",
    "ghp_", "gho_", "github_pat_", "a1B2c3D4e5F6g7H8i9J0", "xoxb-", "xapp-", "eyJ", "eyJhbGciOi",
    "\\", '\\"', "->", "=>", ">", "(", ")", "[", "]", "{", "}", "Cookie", "Set-Cookie", "dbPass",
    "-D", "xoxe.", "xoxp-", "eyJ-", "NoAuthWithAWSException", ".java", "redis://:", "@",
]  # fmt: skip


def corpus(count: int, seed: int = 15) -> list[str]:
    generator = random.Random(seed)
    texts = [
        "password=hunter2-long",
        "Authorization: Bearer abc.def.ghi-123",
        "key AKIAIOSFODNN7EXAMPLE used",
        "posted to https://hooks.slack.com/services/T000/B000/XXXXXXXX",
        '{"api_key": "k-123456"}',
        "webhook=https://example.com/hook/abc123",
        "session_key: s-99887766",
        "NoCredentialsError: Unable to locate credentials",
        "fs.s3a.aws.credentials.provider=org.apache.hadoop.fs.s3a.AnonymousAWSCredentialsProvider",
        "pa\u017f\u017fword=hunter2-long",
        "credent\u0130al: abc123456",
        "to\u212aen=abc123456",
        "ba\u017fic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
        "00000000 " + "x" * 191,
        "token: 'a b, c' user=x",
        'db_pass="x \\" y" then',
        "url=jdbc:x://h/db?user=u&password=p;w&x=1",
        "ghp_" + "a1B2" * 9,
        "xoxb-1234567890-abcdef",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig",
        "",
    ]
    for _ in range(count):
        texts.append("".join(generator.choices(FRAGMENTS, k=generator.randint(1, 9))))
    return texts


def test_redaction_shortcuts_give_what_every_pattern_gives():
    masked = ("hunter2-long", "abc12345")
    plain, masking = Redactor(), Redactor(masked)
    texts = corpus(4000)
    assert any(redacted_the_long_way(text) != text for text in texts)  # secrets were there
    for text in texts:
        assert plain.text(text) == redacted_the_long_way(text), text
        assert masking.text(text) == redacted_the_long_way(text, masked), text


@pytest.mark.parametrize(
    ("fmt", "style"),
    [
        ("%(message)s", "%"),
        ("%(asctime)s %(levelname)s %(name)s: %(message)s", "%"),
        ("{levelname} {message}", "{"),
        ("$message", "$"),
        ("%(message)s %(args)s", "%"),  # reads what the copy changes: the copy is formatted
        ("%(msg)s | %(message)s", "%"),
    ],
)
def test_a_standard_formatter_makes_the_line_of_the_redacted_copy(fmt, style):
    formatter = logging.Formatter(fmt, style=style)
    redactor = Redactor(("hunter2-long",))
    logger = logging.Logger("per-call")
    calls = [
        ("plain text, nothing secret", ()),
        ("password=hunter2", ()),
        ("the mask hunter2-long", ()),
        ("user %s", ("password=hunter2",)),
        ("rows %d", (3,)),
        ("a %s", ({"token": "t-123456"},)),
        ("no args but a %s template", ()),
    ]
    for message, args in calls:
        made = [logger.makeRecord("per-call", logging.INFO, "f.py", 1, message, args, None)
                for _ in range(2)]  # fmt: skip
        made[1].created, made[1].msecs = made[0].created, made[0].msecs
        expected = formatter.format(redact_record(made[0], redactor))
        assert formatter.format(record_to_format(made[1], redactor, formatter)) == expected
        assert "hunter2" not in expected and "t-123456" not in expected


def test_only_an_unchanged_plain_message_skips_the_copy():
    formatter, redactor = logging.Formatter("%(message)s"), Redactor()
    logger = logging.Logger("per-call")

    def record(message, args=()):
        return logger.makeRecord("per-call", logging.INFO, "f.py", 1, message, args, None)

    plain = record("plain")
    assert record_to_format(plain, redactor, formatter) is plain
    for other in (record("token=abc12345"), record("n=%d", (1,))):
        assert record_to_format(other, redactor, formatter) is not other
    with_args_in_format = logging.Formatter("%(message)s %(args)s")
    assert record_to_format(plain, redactor, with_args_in_format) is not plain


class _Lines(BaseLogger):
    def make_handler(self, message: str) -> None:
        pass


class _MessageFormatter(logging.Formatter):
    """A subclass may read or write anything: never the shortcut."""

    def format(self, record: logging.LogRecord) -> str:
        return "sub:" + super().format(record)


@pytest.mark.parametrize(
    "make_formatter",
    [
        lambda: logging.Formatter("%(message)s"),
        lambda: logging.Formatter("%(message)s", defaults={"message": "a default"}),
        lambda: logging.Formatter("{message}", style="{"),
        lambda: logging.Formatter("%(levelname)s %(message)s"),
        lambda: _MessageFormatter("%(message)s"),
        JsonFormatter,
        lambda: None,  # Handler.format's default formatter
    ],
    ids=["message", "defaults", "brace", "level", "subclass", "json", "none"],
)
def test_a_sinks_line_is_the_redacted_records_formatted_line(make_formatter):
    """BaseLogger._redacted_line (a formatter of the message alone: the message redacted, no
    formatter call) makes, for every kind of record, the line of the long way: the record's
    redacted copy (record_to_format), formatted; and leaves `message` set as formatting would."""
    logger = logging.Logger("per-call")
    try:
        raise ValueError("password=hunter2")
    except ValueError:
        error = sys.exc_info()
    calls = [
        ("plain text, nothing secret", (), {}),
        ("password=hunter2 and 'token': 'a b'", (), {}),
        ("the mask hunter2-long", (), {}),
        ("user %s", ("password=hunter2",), {}),
        ("rows %d", (3,), {}),
        ("failed", (), {"exc_info": error}),
        ("with a stack", (), {"stack_info": True}),
        ("a record formatted elsewhere", (), {"exc_text": "Traceback: password=hunter2"}),
        ("fields", (), {"extra": {FIELDS_ATTR: {"token": "t-123456"}}}),
        ("already redacted password=*****", (), {"extra": {REDACTED_ATTR: True}}),
    ]
    for message, args, options in calls:
        for masked in (False, True):
            formatter = make_formatter()
            if masked and formatter is not None:  # a formatter may carry its own redactor
                formatter.redactor = Redactor(("hunter2-long",))
            made = [
                logger.makeRecord(
                    "per-call", logging.INFO, "f.py", 1, message, args,
                    options.get("exc_info"), extra=options.get("extra"),
                    sinfo="Stack (most recent call last):" if options.get("stack_info") else None,
                )
                for _ in range(2)
            ]  # fmt: skip
            made[1].created, made[1].msecs = made[0].created, made[0].msecs
            for record in made:
                record.exc_text = options.get("exc_text")
            sink = _Lines()
            sink.formatter = formatter  # None too: Handler.format's default
            expected = sink.format(record_to_format(made[0], sink.redactor, sink.formatter))
            assert sink._redacted_line(made[1]) == expected, (message, formatter)
            assert made[1].__dict__.get("message") == made[0].__dict__.get("message")
            assert "password=hunter2" not in expected
            if masked and formatter is not None:
                assert "hunter2-long" not in expected


class _ShoutingRecord(logging.LogRecord):
    def getMessage(self) -> str:  # a subclass may build its message otherwise
        return super().getMessage().upper()


class _MaskingLines(_Lines):
    @property
    def redactor(self) -> Redactor:
        return Redactor(("hunter2-long",))


class _PrefixedLines(_Lines):
    def format(self, record: logging.LogRecord) -> str:
        return "[etl] " + super().format(record)


def test_a_sink_with_its_own_redactor_or_format_takes_the_long_way():
    """A subclass's redactor property or format() is what the long way uses: the shortcut must
    not skip them (a review's find: the mask was skipped)."""
    logger = logging.Logger("per-call")
    for sink, expected in (
        (_MaskingLines(formatter=logging.Formatter("%(message)s")), "pw is *****"),
        (_PrefixedLines(formatter=logging.Formatter("%(message)s")), "[etl] pw is hunter2-long"),
    ):
        message = "pw is hunter2-long"
        record = logger.makeRecord("per-call", logging.INFO, "f.py", 1, message, (), None)
        assert sink._redacted_line(record) == expected
    formatter = logging.Formatter("%(message)s")
    formatter.format = lambda record: "replaced"  # type: ignore[method-assign]
    record = logger.makeRecord("per-call", logging.INFO, "f.py", 1, "x", (), None)
    assert _Lines(formatter=formatter)._redacted_line(record) == "replaced"
    formatter = logging.Formatter("%(message)s")
    formatter._style.format = lambda record: "styled"  # type: ignore[method-assign]
    assert _Lines(formatter=formatter)._redacted_line(record) == "styled"
    formatter = logging.Formatter("%(message)s")
    formatter._style._format = lambda record: "styled " + record.message  # type: ignore
    assert _Lines(formatter=formatter)._redacted_line(record) == "styled x"
    sink = _Lines(formatter=logging.Formatter("%(message)s"))
    sink.format = lambda record: "handler"  # type: ignore[method-assign]
    assert sink._redacted_line(record) == "handler"


def test_a_log_record_subclass_is_formatted_the_long_way():
    sink = _Lines(formatter=logging.Formatter("%(message)s"))
    record = _ShoutingRecord("per-call", logging.INFO, "f.py", 1, "quiet", (), None)
    assert sink._redacted_line(record) == "QUIET"


@pytest.fixture
def sink_on_moto(make_sink):
    """make_sink's sinks, formatting the message alone (as the bench's)."""

    def make(**options) -> CloudwatchLogs:
        sink = make_sink(**options)
        sink.setFormatter(logging.Formatter("%(message)s"))
        return sink

    return make


def stored(moto_server, stream: str) -> list[str]:
    client = boto3.client("logs", endpoint_url=moto_server.endpoint_url, region_name="eu-west-1")
    events = client.get_log_events(logGroupName=GROUP, logStreamName=stream, startFromHead=True)
    return [event["message"] for event in events["events"]]


def standard_logger(sink: CloudwatchLogs) -> logging.Logger:
    logger = logging.Logger(f"per-call-{id(sink)}", logging.INFO)
    logger.addHandler(sink)
    return logger


def test_a_standard_handler_splits_300_kib_masks_secrets_and_counts_bytes(
    sink_on_moto, moto_server
):
    sink = sink_on_moto()
    logger = standard_logger(sink)
    big = "".join(f"{index:07d}," for index in range(300 * 1024 // 8))  # 300 KiB of ASCII
    limit = MAX_EVENT_BYTES - EVENT_OVERHEAD_BYTES
    logger.info(big)
    logger.info("password=hunter2-long and AKIAIOSFODNN7EXAMPLE")
    logger.info("user %s", "token=abc12345")
    logger.info("x" * limit)  # exactly one event's worth
    logger.info("y" * (limit + 1))  # one byte more: two events
    logger.info("naïve €")
    sink.flush()
    messages = stored(moto_server, sink.log_stream_name)
    assert "".join(messages[:2]) == big and len(messages[0]) == limit
    assert messages[2:4] == ["password=***** and *****", "user token=*****"]
    assert messages[4] == "x" * limit
    assert "".join(messages[5:7]) == "y" * (limit + 1)
    assert messages[7] == "naïve €"
    figures = sink.snapshot()
    assert figures["sent"] == figures["enqueued"] == 8
    assert figures["split_messages"] == 2
    assert figures["bytes_sent"] == sum(len(m.encode()) for m in messages) + 8 * 26


def test_threads_logging_through_a_standard_logger_arrive_exactly(sink_on_moto, moto_server):
    sink = sink_on_moto(flush_interval=0.05, batch_size=500)
    logger = standard_logger(sink)

    def work(thread: int) -> None:
        for index in range(1500):
            logger.info("t%d-%04d", thread, index)

    in_threads(work, 6)
    sink.close()
    client = boto3.client("logs", endpoint_url=moto_server.endpoint_url, region_name="eu-west-1")
    seen: list[str] = []
    token = None
    while True:
        page = client.get_log_events(
            logGroupName=GROUP,
            logStreamName=sink.log_stream_name,
            startFromHead=True,
            **({"nextToken": token} if token else {}),
        )
        seen.extend(event["message"] for event in page["events"])
        if not page["events"] or page["nextForwardToken"] == token:
            break
        token = page["nextForwardToken"]
    assert sorted(seen) == sorted(f"t{t}-{i:04d}" for t in range(6) for i in range(1500))
    assert sink.snapshot()["sent"] == 9000
