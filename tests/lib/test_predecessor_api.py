"""The predecessor libraries' documented examples, run as written (only the package prefix changed).

`codebase.aws` / `shared_lib.aws` -> `lib.aws`, `shared_lib.logger` -> `lib.logging`,
`shared_lib.spark.pyspark_factory` -> `lib.spark`. Every call below is the documented one, keyword
for keyword, against a real moto server over HTTP (S3, CloudWatch Logs) and a real local HTTP
server (retry); the checks read the results back with plain boto3, not through the library.
The environment points boto3 at the emulator (AWS_ENDPOINT_URL), as a developer's shell would.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import boto3
import pytest
import requests

from tests.conftest import ROOT
from tooling.local.background_server import BackgroundHttpServer

GROUP = "my-log-group"
STREAM = "my-log-stream"


# ---------------------------------------------------------------- helpers (independent readers)


@pytest.fixture
def logs_client(moto_server):
    return boto3.client("logs", endpoint_url=moto_server.endpoint_url, region_name="eu-west-1")


def stored_messages(logs_client, group: str = GROUP, stream: str = STREAM) -> list[str]:
    try:
        events = logs_client.get_log_events(
            logGroupName=group, logStreamName=stream, startFromHead=True
        )["events"]
    except logs_client.exceptions.ResourceNotFoundException:
        return []
    return [event["message"] for event in events]


def wait_for(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def run_python(script: str, timeout: float) -> subprocess.CompletedProcess:
    """A fresh interpreter in the checkout, with this test's environment (the emulator's)."""
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


def make_buckets(s3, *names: str) -> None:
    for name in names:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})


class StatusServer(BackgroundHttpServer):
    """GET answers with the queued status codes (then the last one again); counts requests."""

    def __init__(self, statuses: list[int]) -> None:
        super().__init__()
        self.statuses = list(statuses)
        self.requests = 0

    def handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                status = server.statuses[min(server.requests, len(server.statuses) - 1)]
                server.requests += 1
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        return Handler


@pytest.fixture
def sleeps(caplog):
    """The waits `retry` reports (it really sleeps them: the test also times the call)."""
    import re

    caplog.set_level(logging.INFO, logger="lib.aws.retry")

    def waits() -> list[float]:
        return [
            float(re.search(r"retrying in ([0-9.]+)s", record.getMessage()).group(1))
            for record in caplog.records
            if record.name == "lib.aws.retry"
        ]

    return waits


# ---------------------------------------------------------------- AWS, retry


def test_aws_takes_region_name_and_region_and_gives_a_session(moto_server):
    from lib.aws import AWS

    aws = AWS(region_name="eu-west-1")  # both spellings appear in the predecessors' docs
    assert aws.get_session().region_name == "eu-west-1"
    aws = AWS(region="eu-west-1")
    session = aws.get_session()
    assert session.region_name == "eu-west-1"
    assert AWS(region_name="us-east-2").region == "us-east-2"
    with pytest.raises(TypeError, match="region"):
        AWS(region="eu-west-1", region_name="us-east-1")


@pytest.mark.parametrize(
    ("statuses", "requests_sent", "final"),
    # any 2xx is success: retrying a 201 or 204 would repeat a request that was carried out
    [([503, 500, 200], 3, 200), ([500], 3, 500), ([200], 1, 200), ([201], 1, 201)],
)
def test_bare_retry_retries_until_200_three_times_and_returns_the_last(
    sleeps, statuses, requests_sent, final
):
    from lib.aws import retry

    with StatusServer(statuses) as server:

        @retry  # bare decorator
        def make_request():
            return requests.get(server.base_url, timeout=5)

        started = time.monotonic()
        response = make_request()
        elapsed = time.monotonic() - started
    assert response.status_code == final
    assert server.requests == requests_sent
    waits = sleeps()
    assert len(waits) == requests_sent - 1
    assert waits == sorted(waits)  # longer each time
    assert elapsed >= sum(waits) - 0.02 * len(waits)  # waits are logged rounded to 0.01 s


# ---------------------------------------------------------------- S3


def test_s3_object_helpers_as_documented(aws_contract, s3, tmp_path, monkeypatch):
    aws = aws_contract
    make_buckets(s3, "test-bucket", "bucket-1", "bucket-2")

    aws.s3.put_object(bucket_name="test-bucket", object_name="test-object", body="data")
    assert s3.get_object(Bucket="test-bucket", Key="test-object")["Body"].read() == b"data"
    obj = aws.s3.get_object(bucket_name="test-bucket", object_name="test-object")
    assert obj == b"data"

    s3.put_object(Bucket="test-bucket", Key="big", Body=b"x" * (3 * 1024 * 1024 // 2))
    size = aws.s3.get_object_size(bucket_name="test-bucket", object_name="big", str_format="MB")
    assert size == 1.5
    assert aws.s3.get_object_size(bucket_name="test-bucket", object_name="test-object") == 4

    for key, length in (("test1/a.csv", 1024 * 1024), ("test2/b.csv", 512 * 1024), ("x", 9)):
        s3.put_object(Bucket="test-bucket", Key=key, Body=b"y" * length)
    sizes = aws.s3.get_objects_size(
        bucket_name="test-bucket", prefixes=["test1", "test2"], str_format="MB"
    )
    assert sizes == 1.5

    aws.s3.delete_object(bucket_name="test-bucket", object_name="test-object")
    assert "Contents" not in s3.list_objects_v2(Bucket="test-bucket", Prefix="test-object")

    s3.put_object(Bucket="bucket-1", Key="file-1", Body=b"moved", ContentType="text/csv")
    aws.s3.transfer_object(
        source_bucket="bucket-1", source_object="file-1", target_bucket="bucket-2",
        target_object="file-2",
    )  # fmt: skip
    copied = s3.get_object(Bucket="bucket-2", Key="file-2")
    assert copied["Body"].read() == b"moved"
    assert copied["ContentType"] == "text/csv"

    monkeypatch.chdir(tmp_path)
    s3.put_object(Bucket="test-bucket", Key="test-object", Body=b"downloaded")
    aws.s3.download_object(bucket_name="test-bucket", object_name="test-object", path="local-path")
    assert Path("local-path").read_bytes() == b"downloaded"
    Path("local-path").write_bytes(b"uploaded")
    aws.s3.upload_file(bucket_name="test-bucket", object_name="test-object", path="local-path")
    assert s3.get_object(Bucket="test-bucket", Key="test-object")["Body"].read() == b"uploaded"


def test_get_matching_objects_as_documented(aws_contract, s3):
    aws = aws_contract
    make_buckets(s3, "test-bucket")
    keys = ["test/a.csv", "test/b.CSV", "test/c.json", "testing/d.csv", "other/e.csv"]
    for key in keys:
        s3.put_object(Bucket="test-bucket", Key=key, Body=b"")

    matched = aws.s3.get_matching_objects(bucket_name="test-bucket", prefix="test", suffix=".csv",
                                          regex_match=None, strict=False)  # fmt: skip
    assert sorted(matched) == ["test/a.csv", "test/b.CSV", "testing/d.csv"]
    strict = aws.s3.get_matching_objects(
        bucket_name="test-bucket", prefix="test", suffix=".csv", regex_match=None, strict=True
    )
    assert sorted(strict) == ["test/a.csv", "testing/d.csv"]
    by_regex = aws.s3.get_matching_objects(
        bucket_name="test-bucket", prefix="test", regex_match=r"/[ab]\."
    )
    assert sorted(by_regex) == ["test/a.csv", "test/b.CSV"]
    whole_key = aws.s3.get_matching_objects(
        bucket_name="test-bucket", prefix="test", regex_match=r"test/[ab]\.csv", strict=True
    )
    assert whole_key == ["test/a.csv"]


@pytest.fixture
def aws_contract(moto_server):
    """`AWS(region_name=...)` as the docs write it; the endpoint comes from the environment."""
    from lib.aws import AWS

    assert os.environ["AWS_ENDPOINT_URL"] == moto_server.endpoint_url
    return AWS(region_name="eu-west-1")


# ---------------------------------------------------------------- CloudWatch Logs


def test_aws_logs_creates_group_and_stream_and_is_a_logger(aws_contract, logs_client):
    aws = aws_contract
    logger = aws.logs(log_group_name="my-log-group", log_stream_name="my-log-stream",
                      log_level="INFO")  # fmt: skip
    logger.create_log_group(retention_days=3, tags={"my-tag": "tag1"}, raise_if_exists=False)
    logger.create_log_stream()
    logger.debug("below the level")
    logger.info("my message")
    logger.warning("a warning")
    logger.error("an error")
    logger.critical("critical")
    logger.flush()

    group = logs_client.describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"][0]
    assert group["retentionInDays"] == 3
    assert logs_client.list_tags_log_group(logGroupName=GROUP)["tags"] == {"my-tag": "tag1"}
    records = [json.loads(message) for message in stored_messages(logs_client)]
    assert [(r["level"], r["message"]) for r in records] == [
        ("INFO", "my message"),
        ("WARNING", "a warning"),
        ("ERROR", "an error"),
        ("CRITICAL", "critical"),
    ]
    # creating again is fine unless asked to raise
    logger.create_log_group(retention_days=3, tags={"my-tag": "tag1"}, raise_if_exists=False)
    with pytest.raises(Exception, match="ResourceAlreadyExists"):
        logger.create_log_group(raise_if_exists=True)


def test_a_message_logged_before_exit_reaches_cloudwatch(moto_server, logs_client):
    """Simple usage: no flush, no close; the process just ends."""
    script = """
from lib.aws import AWS
aws = AWS(region_name="eu-west-1")
logger = aws.logs(log_group_name="my-log-group", log_stream_name="my-log-stream", log_level="INFO")
logger.create_log_group(retention_days=3, tags={"my-tag": "tag1"}, raise_if_exists=False)
logger.create_log_stream()
logger.info("my message")
aws.logs(log_group_name="my-log-group", log_stream_name="other").info("unreferenced")
"""
    result = run_python(script, timeout=60)
    assert result.returncode == 0, result.stderr
    assert [json.loads(m)["message"] for m in stored_messages(logs_client)] == ["my message"]
    other = stored_messages(logs_client, stream="other")
    assert [json.loads(m)["message"] for m in other] == ["unreferenced"]


def test_cloudwatch_logs_batch_size_sends_full_batches_and_flush_the_rest(moto_server, logs_client):
    from lib.aws.logs import CloudwatchLogs  # or wherever the sink lives, re-exported here

    logs_client.create_log_group(logGroupName=GROUP)
    logs_client.create_log_stream(logGroupName=GROUP, logStreamName=STREAM)
    logger = CloudwatchLogs(region="eu-west-1", log_group_name="my-log-group",
                            log_stream_name="my-log-stream", log_level="INFO", use_batches=True,
                            batch_size=2, max_attempts=10, backoff_multiplier=2)  # fmt: skip
    puts: list[int] = []
    logger.client.meta.events.register(
        "provide-client-params.cloudwatch-logs.PutLogEvents",
        lambda params, **kwargs: puts.append(len(params["logEvents"])),
    )
    logger.info("msg1")
    assert puts == []
    logger.info("msg2")  # batch_size reached: these two are sent now
    assert wait_for(lambda: len(stored_messages(logs_client)) == 2, timeout=2.0)
    logger.info("msg3")  # waits in the buffer ...
    time.sleep(0.5)
    assert len(stored_messages(logs_client)) == 2
    logger.flush()  # ... until flush()
    messages = [json.loads(m)["message"] for m in stored_messages(logs_client)]
    assert messages == ["msg1", "msg2", "msg3"]
    assert puts == [2, 1]
    logger.close()


def test_use_batches_false_sends_every_message_at_once(moto_server, logs_client):
    from lib.aws.logs import CloudwatchLogs

    logger = CloudwatchLogs(
        region="eu-west-1",
        log_group_name="my-log-group",
        log_stream_name="my-log-stream",
        log_level="INFO",
        use_batches=False,
    )
    logger.info("one")  # group and stream are created on first use
    assert [json.loads(m)["message"] for m in stored_messages(logs_client)] == ["one"]
    logger.close()


# ---------------------------------------------------------------- lib.logging


def test_logger_with_the_default_stdout_logger(capsys):
    from lib.logging import Logger

    logger = Logger(log_level="debug", attach_default_stdout_logger=True,
                    attach_default_file_logger=False)  # fmt: skip
    logger.debug("to stdout")
    assert "to stdout" in capsys.readouterr().out


def test_logger_with_the_default_file_logger_writes_log_name_in_log_path(
    tmp_path, monkeypatch, capsys
):
    from lib.logging import Logger

    monkeypatch.chdir(tmp_path)
    logger = Logger(
        log_name="output",
        log_level="debug",
        log_path="my-log-path",
        attach_default_stdout_logger=False,
        attach_default_file_logger=True,
    )
    logger.debug("to the file")
    logger.close()
    assert capsys.readouterr().out == ""
    lines = (tmp_path / "my-log-path" / "output.log").read_text().splitlines()
    assert [json.loads(line)["message"] for line in lines] == ["to the file"]
    assert json.loads(lines[0])["logger"] == "output"


def test_one_debug_call_reaches_cloudwatch_the_file_and_stdout(
    aws_contract, logs_client, tmp_path, monkeypatch, capsys
):
    from lib.logging import FileLogger, Logger, StdoutLogger

    monkeypatch.chdir(tmp_path)
    aws_logger = aws_contract.logs(log_group_name="my-log-group", log_stream_name="my-log-stream",
                                   log_level="INFO")  # fmt: skip
    logger = Logger(log_level="debug", loggers=[aws_logger])
    file_logger = FileLogger(log_name="log-name", log_level="DEBUG", log_path="my-path")
    stdout_logger = StdoutLogger(log_name="log-name", log_level="DEBUG")
    logger = Logger(log_level="DEBUG", loggers=[aws_logger, file_logger, stdout_logger])
    logger.debug("Debug test")  # reaches CloudWatch, the file and stdout
    logger.flush()

    assert [json.loads(m)["message"] for m in stored_messages(logs_client)] == ["Debug test"]
    lines = (tmp_path / "my-path" / "log-name.log").read_text().splitlines()
    assert [json.loads(line)["message"] for line in lines] == ["Debug test"]
    assert capsys.readouterr().out.count("Debug test") == 1  # given sinks: no default stdout
    logger.info("second")  # the Logger's level governs the whole fan-out
    logger.flush()
    assert len(stored_messages(logs_client)) == 2


def test_standalone_sinks_are_loggers(tmp_path, capsys):
    from lib.logging import FileLogger, StdoutLogger

    stdout_logger = StdoutLogger(log_name="log-name", log_level="DEBUG")
    stdout_logger.debug("standalone")
    out = capsys.readouterr().out
    assert "standalone" in out and "log-name" in out
    file_logger = FileLogger(log_name="log-name", log_level="WARNING", log_path=tmp_path)
    file_logger.info("below its level")
    file_logger.warning("kept")
    file_logger.close()
    lines = (tmp_path / "log-name.log").read_text().splitlines()
    assert [json.loads(line)["message"] for line in lines] == ["kept"]


def test_base_logger_extension_point(capsys):
    from lib.logging import BaseLogger, Logger

    class PrintLogger(BaseLogger):  # extension point: implement make_handler
        def make_handler(self, message: str):
            print(message)

        def info(self, message):
            self.make_handler(message)

    Logger(log_level="DEBUG", loggers=[PrintLogger()]).info("message")  # prints "message"
    assert capsys.readouterr().out == "message\n"


def test_a_subclass_implementing_only_make_handler_gets_formatted_lines(capsys):
    from lib.logging import BaseLogger, Logger

    class PrintLogger(BaseLogger):
        def make_handler(self, message: str):
            print(message)

    logger = Logger(log_level="DEBUG", loggers=[PrintLogger()])
    logger.info("token=abc123 here")  # the Logger's redaction applies to custom sinks too
    line = json.loads(capsys.readouterr().out)
    assert line["message"] == "token=***** here"
    assert line["level"] == "INFO"


def test_custom_level_methods_get_the_redacted_message(capsys):
    from lib.logging import BaseLogger, Logger

    class PrintLogger(BaseLogger):
        def make_handler(self, message: str):
            print(message)

        def info(self, message):
            self.make_handler(message)

    logger = Logger(log_level="DEBUG", loggers=[PrintLogger()])
    logger.info("password=hunter2 and %d files", 3)
    assert capsys.readouterr().out == "password=***** and 3 files\n"


# ---------------------------------------------------------------- Spark


def test_spark_factory_create_session_as_documented(moto_server, tmp_path):
    """The documented call in a fresh process: a new session with exactly these settings."""
    script = f"""
import json
from lib.spark import SparkFactory
spark = SparkFactory(master="local[*]").create_session(
    app_name="demo", executor_memory="2g", executor_cores=4, default_parallelism=4,
    total_executor_cores=16, num_executors=4, log_level="INFO",
    extra_args={{"spark.hadoop.fs.s3a.endpoint": "{moto_server.endpoint_url}"}})
conf = dict(spark.sparkContext.getConf().getAll())
spark.range(10).write.parquet("s3a://contract-bucket/range")
print(json.dumps({{"conf": conf, "count": spark.read.parquet("s3a://contract-bucket/range").count()}}))
spark.stop()
"""
    boto3.client("s3", region_name="eu-west-1").create_bucket(
        Bucket="contract-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    result = run_python(script, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    conf = figures["conf"]
    assert figures["count"] == 10
    assert conf["spark.app.name"] == "demo"
    assert conf["spark.master"] == "local[*]"
    assert conf["spark.executor.memory"] == "2g"
    assert conf["spark.cores.max"] == "16"
    assert conf["spark.hadoop.fs.s3a.endpoint"] == moto_server.endpoint_url


def test_spark_factory_documented_arguments_reach_the_session_conf():
    from lib.spark import SparkFactory

    conf = SparkFactory(master="local[*]").session_conf(
        app_name="demo", executor_memory="2g", executor_cores=4, default_parallelism=4,
        total_executor_cores=16, num_executors=4,
        extra_args={"spark.hadoop.fs.s3a.endpoint": "http://127.0.0.1:5000"},
    )  # fmt: skip
    assert conf["spark.master"] == "local[*]"
    assert conf["spark.app.name"] == "demo"
    assert conf["spark.executor.memory"] == "2g"
    assert conf["spark.executor.cores"] == "4"
    assert conf["spark.default.parallelism"] == "4"
    assert conf["spark.cores.max"] == "16"
    assert conf["spark.executor.instances"] == "4"
    assert conf["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:5000"
