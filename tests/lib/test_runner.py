"""The one run lifecycle (lib.runner) with jobs that are only a JobSpec: exit codes, output,
alerts, redaction, the library's own records in the job's sinks. Spark-free; the jobs' own tests
run the same lifecycle with a SparkSession."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import pytest

from lib.runner import MAX_REASON_CHARS, JobFailed, JobSpec, UsageError, one_line, run_job


@dataclass(frozen=True)
class DemoSettings:
    greeting: str = "hello"


def _spec(body, prepare=None, arguments=None):
    return JobSpec(
        name="runner_demo", settings=DemoSettings, body=body, prepare=prepare,
        arguments=arguments, uses_spark=False,
    )  # fmt: skip


COMMON = ["--env", "local", "--set", "logging.log_path="]


def printed_summary(stdout: str) -> dict:
    """The JSON document the run printed last (log lines go to stdout too)."""
    start = stdout.rfind("\n{\n") + 1 if not stdout.startswith("{") else 0
    return json.loads(stdout[start:])


def test_a_run_prints_its_summary_and_exits_0(capsys):
    seen = {}

    def body(context):
        seen.update(run_id=context.run_id, app_id=context.app_id, spark=context.spark)
        return {"greeting": context.settings.greeting, "env": context.config.env}

    code = run_job(_spec(body), [*COMMON, "--set", "job.greeting=hi", "--run-id", "r-1"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert printed_summary(out.out) == {"greeting": "hi", "env": "local"}
    assert seen == {"run_id": "r-1", "app_id": "runner_demo-r-1", "spark": None}


def test_a_failing_body_exits_1_with_one_redacted_line_and_alerts(capsys, webhook, monkeypatch):
    monkeypatch.setenv("RUNNER_DEMO_HOOK", webhook.url)
    secret = "AKIAABCDEFGHIJKLMNOP"

    def body(context):
        raise RuntimeError(f"boom with key {secret}\nand a second line " + "x" * 2000)

    code = run_job(_spec(body), [*COMMON, "--set", "alerts.slack_webhook.env=RUNNER_DEMO_HOOK"])
    out = capsys.readouterr()
    assert code == 1
    errors = [line for line in out.err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1
    assert errors[0].startswith("error: RuntimeError: boom with key")
    assert len(errors[0]) <= len("error: ") + MAX_REASON_CHARS
    assert secret not in out.err + out.out
    assert len(webhook.bodies) == 1
    alert = webhook.bodies[0]["text"]
    assert "*runner_demo* failed in *local*" in alert
    assert secret not in alert


def test_secrets_read_during_the_run_are_masked_everywhere_even_when_cut(
    capsys, webhook, monkeypatch
):
    """A value read through the job's secrets helper is masked in the reason line (also where
    the 500-character cut falls inside it) and in the Slack alert."""
    from lib.config import SecretRef

    monkeypatch.setenv("RUNNER_DEMO_HOOK", webhook.url)
    monkeypatch.setenv("RUNNER_DEMO_KEY", "zq9-billing-value-77")

    def body(context):
        value = context.aws.secrets.resolve(SecretRef(env="RUNNER_DEMO_KEY"))
        raise RuntimeError("x" * 458 + " request failed for " + value + " " + "y" * 100)

    code = run_job(_spec(body), [*COMMON, "--set", "alerts.slack_webhook.env=RUNNER_DEMO_HOOK"])
    out = capsys.readouterr()
    assert code == 1
    assert "zq9" not in out.err + out.out
    assert "zq9" not in webhook.bodies[0]["text"]
    assert "*****" in webhook.bodies[0]["text"]


def test_an_error_that_cannot_be_printed_still_gives_one_line_and_no_crash(
    capsys, webhook, monkeypatch
):
    class JvmGone(Exception):
        def __str__(self):
            raise RuntimeError("py4j: the JVM is gone")

    def body(context):
        raise JvmGone()

    monkeypatch.setenv("RUNNER_DEMO_HOOK", webhook.url)
    code = run_job(_spec(body), [*COMMON, "--set", "alerts.slack_webhook.env=RUNNER_DEMO_HOOK"])
    out = capsys.readouterr()
    assert code == 1
    assert [line for line in out.err.splitlines() if line.startswith("error: ")] == [
        "error: JvmGone: (its message could not be read: RuntimeError)"
    ]


def test_job_failed_prints_its_summary_then_the_reason(capsys):
    def body(context):
        raise JobFailed("2 request(s) failed", {"status": "failed", "failed_urls": ["/a", "/b"]})

    assert run_job(_spec(body), COMMON) == 1
    out = capsys.readouterr()
    assert printed_summary(out.out) == {"status": "failed", "failed_urls": ["/a", "/b"]}
    assert out.err.strip().splitlines()[-1] == "error: 2 request(s) failed"


def test_usage_and_config_errors_exit_2_before_the_body_runs(capsys):
    ran = []

    def prepare(args, settings):
        if args.count < 0:
            raise UsageError("--count must be 0 or more")
        return args.count

    def arguments(parser):
        parser.add_argument("--count", type=int, default=0)

    spec = _spec(lambda context: ran.append(context.request) or {}, prepare, arguments)
    assert run_job(spec, [*COMMON, "--count", "-1"]) == 2
    assert "error: --count must be 0 or more" in capsys.readouterr().err
    assert run_job(spec, [*COMMON, "--set", "job.greting=x"]) == 2
    assert "did you mean 'greeting'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        run_job(spec, ["--env", "nowhere"])
    assert exit_info.value.code == 2
    assert ran == []
    assert run_job(spec, [*COMMON, "--count", "3"]) == 0
    assert ran == [3]


def test_the_library_records_reach_the_job_sinks_only_during_the_run(tmp_path, capsys):
    log_file = tmp_path / "runner_demo.log"  # <log_path>/<job>.log
    library = logging.getLogger("lib.some_module")

    def body(context):
        library.warning("from the library")
        return {}

    handlers_before = list(logging.getLogger("lib").handlers)
    assert run_job(_spec(body), ["--env", "local", "--set", f"logging.log_path={tmp_path}"]) == 0
    lines = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert any(line["message"] == "from the library" for line in lines)
    assert logging.getLogger("lib").handlers == handlers_before


def test_one_line_keeps_the_type_except_for_job_failed():
    assert one_line(ValueError("a\n  b")) == "ValueError: a b"
    assert one_line(JobFailed("why")) == "why"
    assert len(one_line(ValueError("x" * 900))) == MAX_REASON_CHARS


@pytest.mark.spark
@pytest.mark.parametrize("level", ["DEBUG", "INFO"])
def test_the_spark_conf_is_read_for_the_log_only_at_debug(spark, capsys, monkeypatch, level):
    """Reading the whole Spark conf takes about 500 py4j calls: a run reads it only when its
    debug line is logged."""
    from pyspark import SparkContext

    reads = []
    original = SparkContext.getConf
    monkeypatch.setattr(SparkContext, "getConf",
                        lambda self: reads.append(1) or original(self))  # fmt: skip
    spec = JobSpec(name="runner_demo", settings=DemoSettings, body=lambda context: {},
                   uses_spark=True)  # fmt: skip
    assert run_job(spec, [*COMMON, "--set", f"logging.level={level}"]) == 0
    logged = capsys.readouterr().out
    assert ('"spark conf"' in logged or "spark conf" in logged) == (level == "DEBUG")
    assert bool(reads) == (level == "DEBUG")
