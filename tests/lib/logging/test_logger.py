"""lib.logging: fan-out, levels, isolation of failing sinks, JSON context, redaction."""

from __future__ import annotations

import json
import logging

import pytest

from lib.logging import BaseLogger, FileLogger, Logger, StdoutLogger


class ListSink(BaseLogger):
    """A sink that keeps its lines: the extension point in its smallest form."""

    def __init__(self, log_level="DEBUG"):
        super().__init__(log_level=log_level)
        self.lines: list[str] = []

    def make_handler(self, message):
        self.lines.append(message)

    def messages(self) -> list[dict]:
        return [json.loads(line) for line in self.lines]


class BrokenSink(BaseLogger):
    def make_handler(self, message):
        raise OSError("disk full")


def test_the_logger_level_decides_for_all_its_sinks_and_a_sink_level_when_alone():
    verbose, quiet = ListSink("DEBUG"), ListSink("WARNING")
    log = Logger(log_level="DEBUG", loggers=[verbose, quiet])
    log.debug("details")
    log.warning("careful")
    assert [m["message"] for m in verbose.messages()] == ["details", "careful"]
    assert [m["message"] for m in quiet.messages()] == ["details", "careful"]
    assert quiet.messages()[1]["level"] == "WARNING"
    quiet.info("alone")  # used on its own, the sink's level applies
    quiet.error("alone %s", "too", n=1)
    assert [m["message"] for m in quiet.messages()][2:] == ["alone too"]
    assert quiet.messages()[2]["fields"] == {"n": 1}
    library_logger = logging.getLogger("lib.test_levels")
    library_logger.setLevel(logging.DEBUG)
    log.attach_to(library_logger)  # as a standard handler, too
    try:
        library_logger.info("from the library")
    finally:
        log.detach_from(library_logger)
    assert [m["message"] for m in verbose.messages()][-1] == "from the library"
    assert [m["message"] for m in quiet.messages()][-1] == "alone too"


def test_sinks_must_be_base_loggers():
    with pytest.raises(TypeError, match="BaseLogger"):
        Logger(loggers=[logging.StreamHandler()])


def test_logger_level_filters_before_the_sinks():
    sink = ListSink("DEBUG")
    log = Logger(log_level="INFO", loggers=[sink])
    log.debug("hidden")
    log.info("shown %s", "here")
    assert [m["message"] for m in sink.messages()] == ["shown here"]


def test_a_failing_sink_is_counted_and_isolated(capsys):
    good = ListSink()
    broken = BrokenSink("DEBUG")
    log = Logger(loggers=[broken, good])
    for index in range(3):
        log.info("message %d", index)
    assert len(good.lines) == 3
    assert broken.failures == 3
    assert log.sink_failures() == {"0:BrokenSink": 3, "1:ListSink": 0}
    assert capsys.readouterr().err.count("BrokenSink failed") == 1  # reported once


def test_context_and_fields_are_json():
    sink = ListSink()
    log = Logger(
        loggers=[sink],
        context={"job": "xetra", "env": "local", "app_id": "local-123"},
    )
    run_log = log.bind(run_id="r-1")
    run_log.info("files read", files=12, dates=["2024-01-02"])
    message = sink.messages()[0]
    assert message["context"]["job"] == "xetra"
    assert message["context"]["env"] == "local"
    assert message["context"]["app_id"] == "local-123"
    assert message["context"]["run_id"] == "r-1"
    assert isinstance(message["context"]["pid"], int)
    assert message["context"]["host"]
    assert message["fields"] == {"files": 12, "dates": ["2024-01-02"]}
    assert message["ts"].endswith("+00:00")
    assert "stage" not in message["context"]  # only inside Spark tasks


def test_exceptions_carry_the_traceback():
    sink = ListSink()
    log = Logger(loggers=[sink])
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("step failed")
    message = sink.messages()[0]
    assert message["level"] == "ERROR"
    assert "RuntimeError: boom" in message["error"]


SECRETS = {
    "password=hunter2-long": "hunter2-long",
    "Authorization: Bearer abc.def.ghi-123": "abc.def.ghi-123",
    "key AKIAIOSFODNN7EXAMPLE used": "AKIAIOSFODNN7EXAMPLE",
    "posted to https://hooks.slack.com/services/T000/B000/XXXXXXXX": "T000/B000/XXXXXXXX",
    '{"api_key": "k-123456"}': "k-123456",
    "webhook=https://example.com/hook/abc123": "https://example.com/hook/abc123",
    "session_key: s-99887766": "s-99887766",
    "api_key_error: k-hunter2xyz": "k-hunter2xyz",
    '"password_warning": "hunter2xyz"': "hunter2xyz",
    "SECRET_ERROR=abc123456": "abc123456",
    "db pwd=hunter2xyz": "hunter2xyz",
    "passphrase: correct-horse": "correct-horse",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----": "MIIEpAIB",
    "cut short: -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkq": "MIIEvQIBADANBgkq",
    # a quoted value runs to its closing quote, an unquoted one to the next space
    'password="correct horse, battery" user=x': "battery",
    "{'api_key': 'k-1 k-2'}": "k-2",
    '{"token": "ab\\"cd ef"}': "cd ef",
    'db_password="unclosed secret tail': "secret tail",
    "-Dtrust.password=part1,part2 -Xss4m": "part2",
    "jdbc:postgresql://h/db?user=u&password=p@ss;w0rd&ssl=1": "w0rd",
    # short words of their own
    "db_pass=hunter2xyz": "hunter2xyz",
    "auth: s3cr3t-value": "s3cr3t-value",
    "x-auth=s3cr3t-value": "s3cr3t-value",
    "creds=user:s3cr3t": "s3cr3t",
    "Cookie: session=abcdef123456": "abcdef123456",
    "db_pw=hunter2xyz": "hunter2xyz",
    "jwt: abc.def.ghi-1234": "abc.def.ghi-1234",
    # tokens of a known shape, wherever they stand
    "cloning with ghp_" + "a1B2" * 9 + " now": "a1B2a1B2a1B2",
    "fine-grained github_pat_11ABCDEFG0123456789_abcdefghijKLMN": "11ABCDEFG0123456789",
    "slack xoxb-1234567890-abcdefABCDEF said": "1234567890-abcdef",
    "got eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig-nature_1 back": "eyJzdWIiOiIxMjM0In0",
    "config:\n"
    + json.dumps({"api_keys": ["k-1234567890"], "auth": ["etl", "hunter2xyz"]}, indent=2): (
        "hunter2xyz"
    ),
    "DBPass=hunter2xyz LDAPAuth=s3cr3t-value": "hunter2xyz",
    "{" + "\\" * 15 + '"password' + "\\" * 15 + '": ' + "\\" * 15 + '"a b' + "\\" * 15 + '"}': (
        "a b"
    ),
    "LDAPAuth=s3cr3t-value auth_key=k-98765": "s3cr3t-value",
    "auth_key=k-98765 jwt_key=j-98765": "k-98765",
    "pass_word=hunter2xyz": "hunter2xyz",
    '{\\\\\\"password\\\\\\":\\\\\\"a b\\\\\\"}': "a b",
    # a review's finds: JVM properties and camelCase, tuples and mappings, cookie headers,
    # escaped quotes, quotes inside a value, Scala's Map, refresh tokens, an empty URL user
    "-Dpass=hunter2xyz -Dauth=s3cr3t-value": "hunter2xyz",
    "-Djwt=s3cr3t-value -Dcreds=x": "s3cr3t-value",
    "dbPass=hunter2xyz basicAuth=dXNlcjpwYXNz": "dXNlcjpwYXNz",
    "sessionCookie=abc123secret myCreds=u:p": "abc123secret",
    "requests.get(url, auth=('etl', 'hunter2xyz'))": "hunter2xyz",
    '"creds": ["etl", "s3cr3t-value"]': "s3cr3t-value",
    "cookies={'sessionid': 'abc123secret'}": "abc123secret",
    "Cookie: theme=dark; sessionid=abc123secret; csrftoken=zzz": "abc123secret",
    "Set-Cookie: sid=abc123secret; Path=/; HttpOnly": "abc123secret",
    '{"error": "invalid request: token=\\"abc123 def\\""}': "def",
    '{"body": "{\\"password\\": \\"hunter2xyz\\"}"}': "hunter2xyz",
    '-Ddb.password=pa"ss-word -Dname=kept': "ss-word",
    "Map(user -> u, password -> hunter2xyz)": "hunter2xyz",
    "password => hunter2xyz": "hunter2xyz",
    "xoxe-1-My0xLTEyMzQ1Njc4OTAtYWJjZGVm": "My0xLTEyMzQ1Njc4OTAtYWJjZGVm",
    "xoxc-1234567890-abcdef and xoxe.xoxp-1-abcdefghijkl": "abcdefghijkl",
    "redis://:s3cr3t-value@cache:6379/0": "s3cr3t-value",
}


@pytest.mark.parametrize(
    "text",
    [
        "NoCredentialsError: Unable to locate credentials",
        "TokenRefreshWarning: retrying",
        "fs.s3a.aws.credentials.provider=org.apache.hadoop.fs.s3a.AnonymousAWSCredentialsProvider",
        # words that only contain a short secret word
        "passenger=3 bypass=1 compass: north",
        "author: Jane credit=5 oauth_flow=pkce",
        "auth_type=iam auth.method: sso fs.azure.account.auth.type=OAuth",
        "spark.authenticate=true",
        "commit 0123456789abcdef0123456789abcdef01234567 through the high gh_pages",
        # short words before another word, or inside one
        "spark.cassandra.auth.username=etl es.net.http.auth.user=elastic",
        "hadoop.http.authentication.cookie.domain=example.com jwt.issuer=x pass_count=3",
        "spark.hadoop.hadoop.security.auth_to_local=RULE:[1:$1@$0]",
        "DBPASS=3 oauth=pkce authType=iam",
        # dotted exception types, stack frames
        "Caused by: org.apache.hadoop.fs.s3a.auth.NoAuthWithAWSException: No AWS Credentials",
        "at a.AssumedRoleCredentialProvider.<init>(AssumedRoleCredentialProvider.java:123)",
        "EnvironmentVariableCredentialsProvider: Unable to load credentials",
    ],
)
def test_error_types_and_class_names_are_not_taken_for_secrets(text):
    """An exception's `Type: message` keeps its message: only key=value pairs are blanked."""
    from lib.redact import Redactor

    assert Redactor().text(text) == text


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ('password="a b, c" user=x', 'password="*****" user=x'),
        ("{'token': 'a b'}, kept", "{'token': '*****'}, kept"),
        ('"api_key": "k\\"q", "name": "n"', '"api_key": "*****", "name": "n"'),
        ("secret='open to the end\nnext line", "secret='*****\nnext line"),
        ("-Dx.password=a,b -Dname=kept", "-Dx.password=***** -Dname=kept"),
        ("pass=p;w&rd next", "pass=***** next"),
        ("auth=('etl', 'pw') next", "auth=(*****) next"),
        ('"creds": ["a", "b"], "n": 1', '"creds": [*****], "n": 1'),
        ("Cookie: a=1; sid=x\nnext line", "Cookie: *****\nnext line"),
        ('{\\"password\\": \\"a b\\", \\"n\\": 1}', '{\\"password\\": \\"*****\\", \\"n\\": 1}'),
        ("Map(password -> x, user -> u)", "Map(password -> *****, user -> u)"),
        ("password=(pa55)word next", "password=***** next"),
        ('password="pa55"word, next', "password=*****, next"),
        ("{'password': b'hunter 2'}", "{'password': *****}"),
        ("password -> Some(hunter 2), user -> u", "password -> *****, user -> u"),
        ('{"Cookie": "sid=abc", "next": "shown"}', '{"Cookie": "*****", "next": "shown"}'),
        ("HTTP_COOKIE=a=1; sessionid=abc\nnext", "HTTP_COOKIE=*****\nnext"),
        ('{\\"password\\":\\"a\\\\\\" b c\\"}', '{\\"password\\":\\"*****\\"}'),
        ("password := hunter2 next", "password := ***** next"),
        # values of several parts, cookies quoted then continued, brackets of the wrong kind
        ("--password='a'\\''b c' --user x", "--password=*****"),
        ("PASSWORD='a''b c' WHERE x", "PASSWORD='*****' WHERE x"),
        ("password=a(b)c'd e f' next", "password=***** next"),
        ('Cookie: "a=1"; sid=abc\nnext', "Cookie: *****\nnext"),
        ("password=(a] b) next", "password=(*****) next"),
        ("enableOAuth=true next", "enableOAuth=true next"),
        # a fourth review's finds: a multi-line cookie mapping, unquoted values with parts,
        # SSO, credentials after Bearer under any secret key
        ('cookies = {\n  "sid": "abc",\n  "x": "y"\n};\nnext', "cookies = *****\nnext"),
        ("-Dx.keyStorePassword=ab(c)d;ef next", "-Dx.keyStorePassword=***** next"),
        ("password=Hunter(2),xyz next", "password=***** next"),
        ("password=p(w);rd&x=1 tail", "password=***** tail"),
        ("SSOPass=hunter2 next", "SSOPass=***** next"),
        ("token=Bearer abcdef123456 next", "token=***** ***** next"),
        ("X-Auth: Bearer abcdef123456.xyz", "X-Auth: ***** *****"),
    ],
)
def test_a_secret_value_goes_whole_and_its_quotes_stay(text, redacted):
    from lib.redact import Redactor

    assert Redactor().text(text) == redacted


@pytest.mark.parametrize(("text", "secret"), list(SECRETS.items()))
def test_secrets_are_redacted_in_messages(text, secret):
    sink = ListSink()
    Logger(loggers=[sink]).error(text)
    assert secret not in sink.lines[0]
    assert "*****" in sink.lines[0]


def test_secrets_are_redacted_in_fields_errors_and_a_logged_spark_conf(tmp_path, capsys):
    sink = ListSink()
    log = Logger(
        loggers=[sink, FileLogger(log_name="job", log_path=tmp_path)],
        attach_default_stdout_logger=True,
    )
    log.mask("my-masked-secret-value")
    spark_conf = {
        "spark.hadoop.fs.s3a.access.key": "AKIAIOSFODNN7EXAMPLE",
        "spark.hadoop.fs.s3a.secret.key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "spark.hadoop.fs.s3a.session.token": "token-value-123",
        "spark.app.name": "xetra",
    }
    log.info("spark conf", conf=spark_conf, header={"Authorization": "Basic dXNlcjpwYXNz"})
    try:
        raise ValueError("connect failed for my-masked-secret-value")
    except ValueError:
        log.exception("oops")
    everything = "\n".join(sink.lines) + (tmp_path / "job.log").read_text()
    everything += capsys.readouterr().out
    for secret in (
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "token-value-123",
        "dXNlcjpwYXNz",
        "my-masked-secret-value",
    ):
        assert secret not in everything
    conf = sink.messages()[0]["fields"]["conf"]
    assert conf["spark.app.name"] == "xetra"
    assert conf["spark.hadoop.fs.s3a.secret.key"] == "*****"


def test_stdout_and_file_sinks(tmp_path, capsys):
    path = tmp_path / "logs" / "demo.log"
    log = Logger(
        log_name="demo",
        log_level="INFO",
        attach_default_stdout_logger=True,
        attach_default_file_logger=True,
        log_path=path.parent,
        context={"job": "demo"},
    )
    log.info("hello")
    log.close()
    out = capsys.readouterr().out
    assert "INFO" in out and "hello" in out and '"job": "demo"' in out
    record = json.loads(path.read_text().strip())
    assert record["message"] == "hello"
    assert record["logger"] == "demo"
    with pytest.raises(ValueError, match="log_name"):
        FileLogger(log_name="../escape", log_path=tmp_path)


def test_standard_loggers_can_feed_the_same_sinks():
    sink = ListSink()
    log = Logger(loggers=[sink])
    library_logger = logging.getLogger("lib.test_feed")
    library_logger.setLevel(logging.INFO)
    log.attach_to(library_logger)
    try:
        library_logger.info("from the standard logger")
    finally:
        for handler in list(library_logger.handlers):
            library_logger.removeHandler(handler)
    assert sink.messages()[0]["message"] == "from the standard logger"
    assert sink.messages()[0]["logger"] == "lib.test_feed"


def test_two_loggers_do_not_share_sinks():
    first, second = ListSink(), ListSink()
    Logger(loggers=[first]).info("one")
    Logger(loggers=[second]).info("two")
    assert [m["message"] for m in first.messages()] == ["one"]
    assert [m["message"] for m in second.messages()] == ["two"]


def test_stdout_sink_json_lines(capsys):
    log = Logger(loggers=[StdoutLogger(json_lines=True)])
    log.warning("structured")
    assert json.loads(capsys.readouterr().out)["message"] == "structured"


def test_cloudwatch_sink_through_the_aws_facade(aws):
    import boto3

    sink = aws.logs(log_group_name="/facade/test", log_stream_name="driver", flush_interval=0)
    sink.create_log_group(retention_days=1)
    sink.create_log_stream()
    log = Logger(loggers=[sink], attach_default_stdout_logger=False, context={"job": "t"})
    log.info("to cloudwatch", n=1)
    log.close()
    client = boto3.client("logs", endpoint_url=aws.endpoint_url, region_name="eu-west-1")
    events = client.get_log_events(logGroupName="/facade/test", logStreamName="driver")["events"]
    assert [json.loads(e["message"])["fields"] for e in events] == [{"n": 1}]


def test_a_sink_shared_by_two_loggers_gets_the_masks_of_each():
    shared = ListSink()
    first, second = Logger(loggers=[shared]), Logger(loggers=[shared])
    first.mask("first-secret-value")
    second.mask("second-secret-value")
    first.info("first-secret-value in one", token_hint="first-secret-value")
    second.info("second-secret-value in two")
    text = "\n".join(shared.lines)
    assert "first-secret-value" not in text and "second-secret-value" not in text
    assert [m["message"] for m in shared.messages()] == ["***** in one", "***** in two"]


class PlainFormatterSink(BaseLogger):
    """A sink with a standard formatter: no redaction of its own."""

    def __init__(self):
        super().__init__(
            log_level="DEBUG", formatter=logging.Formatter("%(levelname)s %(message)s")
        )
        self.lines: list[str] = []

    def make_handler(self, message):
        self.lines.append(message)


def test_a_sink_with_a_standard_formatter_only_sees_redacted_text():
    sink = PlainFormatterSink()
    log = Logger(loggers=[sink])
    log.mask("hunter2-hunter2")
    log.info("password is %s", "hunter2-hunter2")
    try:
        raise ValueError("boom hunter2-hunter2")
    except ValueError:
        log.exception("failed")
    library_logger = logging.getLogger("lib.test_plain_formatter")
    library_logger.setLevel(logging.INFO)
    log.attach_to(library_logger)
    try:
        library_logger.info("from the library: hunter2-hunter2")
    finally:
        log.detach_from(library_logger)
    assert not library_logger.handlers
    text = "\n".join(sink.lines)
    assert "hunter2" not in text
    assert sink.lines[0] == "INFO password is *****"
    assert "ValueError: boom *****" in sink.lines[1]
    assert sink.lines[2] == "INFO from the library: *****"


class PrefixLogger(BaseLogger):
    """The predecessors' extension style, calling the base class."""

    def __init__(self):
        super().__init__(log_level="ERROR")  # its own level must not drop what a Logger sends
        self.lines: list[str] = []

    def make_handler(self, message):
        self.lines.append(message)

    def info(self, message, *args, **fields):
        super().info("> " + message, *args, **fields)


def test_a_subclass_level_method_calling_super_keeps_the_record():
    sink = PrefixLogger()
    log = Logger(log_name="job", log_level="INFO", loggers=[sink], context={"run": "r1"})
    log.info("hello", rows=3)
    (line,) = sink.lines
    record = json.loads(line)
    assert record["message"] == "> hello"
    assert record["logger"] == "job"
    assert record["context"]["run"] == "r1"
    assert record["fields"] == {"rows": 3}
    sink.info("alone")  # on its own, its ERROR level applies
    assert len(sink.lines) == 1


@pytest.mark.parametrize("level", [None, True, -1, "LOUD", 2.5])
def test_bad_log_levels_are_refused(level):
    with pytest.raises(ValueError, match="log level"):
        Logger(log_level=level)
    with pytest.raises(ValueError, match="log level"):
        StdoutLogger(log_level=level)


def test_a_sink_used_on_its_own_or_as_a_standard_handler_redacts_too(capsys):
    sink = StdoutLogger(log_level="DEBUG")
    sink.setFormatter(logging.Formatter("%(message)s"))
    sink.info("AKIAIOSFODNN7EXAMPLE https://u:pw1234@h/x")
    standard = logging.getLogger("lib.test_standard_handler")
    standard.addHandler(sink)
    try:
        standard.warning("token=abc123 from the library")
    finally:
        standard.removeHandler(sink)
    out = capsys.readouterr().out
    assert "AKIAIOSFODNN7EXAMPLE" not in out and "pw1234" not in out and "abc123" not in out
    assert out.splitlines() == ["***** https://u:*****@h/x", "token=***** from the library"]


def test_redaction_takes_linear_time_on_long_runs_of_secret_words():
    import time

    log = Logger(loggers=[ListSink()])
    started = time.perf_counter()
    log.info("x " + "token" * 12000)  # was 18 s: nested stars in the key=value pattern
    log.info("secret_" * 5000 + "=value")
    log.info("-----BEGIN " + "A " * 20000 + "PRIVATE KEY" * 3000)  # headers that never close
    log.info("-----BEGIN PRIVATE KEY-----" * 3000)  # blocks that never end
    log.info('token="' + "\\\\a" * 20000)  # a quoted value of escapes that never closes
    log.info("a=" * 30000 + "password=" * 30000)  # pairs whose value is the next pair
    log.info('pass="x" ' * 20000)  # many secrets
    log.info("eyJ-" * 40000 + ".")  # token starts in a run that never ends (a review's find)
    log.info("a." * 40000 + "://")  # schemes that never end (a review's find)
    log.info("xoxb-" * 40000)
    log.info("auth=" + "(" * 40000)  # brackets that never close
    log.info("auth=(" + "'a'," * 40000)
    log.info("password -> " * 30000)
    log.info("aB" * 40000 + "Pass=1")  # a long camelCase key
    log.info("Cookie: " * 30000)
    log.info("\U0001f600" + 'pw=\\"\\",' * 31250)  # escaped quotes, closed at once (a find)
    log.info(("pw" + "pas" * 27 + "=v ") * 2500)  # keys of 80-128 characters, over and over
    log.info("Cookie: (\n" * 8000 + ");" * 8000)  # was 25 s: each line's bracket read again
    assert time.perf_counter() - started < 2.0


def test_a_message_whose_arguments_do_not_fit_keeps_its_text():
    sink = ListSink()
    Logger(loggers=[sink]).info("bad %d", "x")
    (record,) = sink.messages()
    assert record["message"].startswith("bad %d (arguments ('x',) do not fit: TypeError")


def test_a_sink_that_skipped_the_base_init_is_refused_when_added():
    class Careless(BaseLogger):
        def __init__(self):  # no super().__init__()
            pass

        def make_handler(self, message):
            pass

    with pytest.raises(TypeError, match="super"):
        Logger(loggers=[Careless()])
