"""Logging from Spark executors into CloudWatch (moto): per-worker streams, task context."""

from __future__ import annotations

import json

import boto3
import pytest

from lib.logging.executor import (
    ExecutorLogConfig,
    driver_logger,
    prepare_log_group,
    task_logger,
)

pytestmark = pytest.mark.spark
GROUP = "/datalake-etl/executors"


def all_events(client, group):
    events = {}
    for stream in client.describe_log_streams(logGroupName=group)["logStreams"]:
        name = stream["logStreamName"]
        token, collected = None, []
        while True:
            arguments = {"logGroupName": group, "logStreamName": name, "startFromHead": True}
            if token:
                arguments["nextToken"] = token
            page = client.get_log_events(**arguments)
            collected += [json.loads(event["message"]) for event in page["events"]]
            if not page["events"] or page["nextForwardToken"] == token:
                break
            token = page["nextForwardToken"]
        events[name] = collected
    return events


@pytest.fixture
def log_config(spark, moto_server):
    config = ExecutorLogConfig(
        log_group_name=GROUP,
        app_id=spark.sparkContext.applicationId,
        region="eu-west-1",
        endpoint_url=moto_server.endpoint_url,
        context=(("env", "local"), ("job", "executor-test")),
        flush_interval=30.0,  # the task scope must flush, not the timer
    )
    prepare_log_group(config, retention_days=1, tags={"project": "datalake-etl"})
    return config


def test_every_executor_event_arrives_in_per_worker_streams(spark, moto_server, log_config):
    client = boto3.client("logs", endpoint_url=moto_server.endpoint_url, region_name="eu-west-1")
    driver = driver_logger(log_config, attach_default_stdout_logger=False)
    driver.info("job starts")

    def log_partition(rows):  # defined here: cloudpickle ships it by value to the workers
        with task_logger(log_config) as log:
            count = 0
            for row in rows:
                count += 1
                log.info("row seen", value=row)
            log.info("partition done", rows=count)
        yield count

    counts = spark.sparkContext.parallelize(range(40), 5).mapPartitions(log_partition).collect()
    driver.info("job done", rows=sum(counts))
    driver.close()
    assert sorted(counts) == [8, 8, 8, 8, 8]

    events = all_events(client, GROUP)
    app_id = log_config.app_id
    assert [e["message"] for e in events[f"spark/{app_id}/driver"]] == ["job starts", "job done"]
    worker_streams = {name: evs for name, evs in events.items() if not name.endswith("/driver")}
    assert 1 <= len(worker_streams) <= 2  # local[2]: one stream per Python worker process
    for name in worker_streams:
        host_pid = name.rsplit("/", 1)[1]
        assert name.startswith(f"spark/{app_id}/") and host_pid.rsplit("-", 1)[1].isdigit()

    executor_events = [event for evs in worker_streams.values() for event in evs]
    rows = sorted(e["fields"]["value"] for e in executor_events if e["message"] == "row seen")
    assert rows == list(range(40))  # every event, exactly once
    done = [e for e in executor_events if e["message"] == "partition done"]
    assert sorted(e["context"]["partition"] for e in done) == [0, 1, 2, 3, 4]
    for event in executor_events:
        context = event["context"]
        assert {"stage", "partition", "attempt", "host", "pid"} <= set(context)
        assert context["attempt"] == 0
        assert context["job"] == "executor-test"
        assert context["app_id"] == app_id
    group = client.describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"][0]
    assert group["retentionInDays"] == 1


def test_task_scope_flushes_even_when_the_task_fails(spark, moto_server, log_config):
    client = boto3.client("logs", endpoint_url=moto_server.endpoint_url, region_name="eu-west-1")

    def fail_after_logging(rows):
        with task_logger(log_config) as log:
            log.warning("about to fail", rows=sum(1 for _ in rows))
            raise RuntimeError("task failure on purpose")
        yield 0  # pragma: no cover - makes this a generator

    rdd = spark.sparkContext.parallelize(range(6), 2)
    with pytest.raises(Exception, match="task failure on purpose"):
        rdd.mapPartitions(fail_after_logging).collect()
    events = [e for evs in all_events(client, GROUP).values() for e in evs]
    warned = [e for e in events if e["message"] == "about to fail"]
    assert warned, "events logged before the failure must reach CloudWatch"
    assert all(e["level"] == "WARNING" for e in warned)


def test_config_pickles_small_and_builds_streams():
    import pickle

    config = ExecutorLogConfig(log_group_name="/g", app_id="app-1", stream_prefix="etl")
    assert pickle.loads(pickle.dumps(config)) == config
    assert len(pickle.dumps(config)) < 600
    assert config.driver_stream() == "etl/app-1/driver"
    assert config.worker_stream().startswith("etl/app-1/")


def _denying(code: str):
    """A before-call hook that answers CreateLogStream with `code` (a real ClientError)."""
    from botocore.exceptions import ClientError

    def hook(**kwargs):
        raise ClientError({"Error": {"Code": code, "Message": code}}, "CreateLogStream")

    return hook


@pytest.mark.parametrize("setup", ["missing_group", "ThrottlingException", "AccessDeniedException"])
def test_a_task_logger_never_fails_the_task(moto_server, setup, capfd):
    """No group yet, CreateLogStream throttled (50/s per account) or denied: the task goes on."""
    from lib.logging.executor import worker_sink

    config = ExecutorLogConfig(
        log_group_name=f"/lazy/{setup}", app_id="app-x", region="eu-west-1",
        endpoint_url=moto_server.endpoint_url, flush_interval=0,
    )  # fmt: skip
    if setup != "missing_group":
        worker_sink(config).client.meta.events.register(
            "before-call.cloudwatch-logs.CreateLogStream", _denying(setup)
        )
    with task_logger(config) as log:
        log.info("from the task")
    client = boto3.client("logs", endpoint_url=moto_server.endpoint_url, region_name="eu-west-1")
    if setup == "missing_group":  # created lazily, at the first send
        streams = all_events(client, config.log_group_name)
        assert [event["message"] for events in streams.values() for event in events] == [
            "from the task"
        ]
    else:
        assert "from the task" in capfd.readouterr().err  # in the fallback, with its reason


@pytest.mark.parametrize("code", ["AccessDeniedException", "ThrottlingException"])
def test_the_drivers_log_group_set_up_never_fails_the_job(moto_server, code, capfd, monkeypatch):
    config = ExecutorLogConfig(
        log_group_name="/denied/driver", app_id="app-y", region="eu-west-1",
        endpoint_url=moto_server.endpoint_url,
    )  # fmt: skip
    from lib.logging import executor

    original = executor.ExecutorLogConfig.sink

    def sink_with_hook(self, stream):
        sink = original(self, stream)
        for operation in ("CreateLogGroup", "CreateLogStream"):
            sink.client.meta.events.register(
                f"before-call.cloudwatch-logs.{operation}", _denying(code)
            )
        return sink

    monkeypatch.setattr(executor.ExecutorLogConfig, "sink", sink_with_hook)
    assert prepare_log_group(config, retention_days=1, tags={"project": "p"}) is False
    assert code in capfd.readouterr().err  # said once, on stderr


def test_a_run_id_with_colons_still_gets_streams_cloudwatch_takes(moto_server):
    config = ExecutorLogConfig(
        log_group_name="/datalake-etl/test",
        app_id="billing-scheduled__2026-12-03T10:00:00+00:00",
        stream_prefix="etl*dev",
        endpoint_url=moto_server.endpoint_url,
        region="eu-west-1",
    )
    assert config.driver_stream() == "etl-dev/billing-scheduled__2026-12-03T10-00-00+00-00/driver"
    sink = config.sink(config.worker_stream())
    assert sink.create_log_group() in (True, False)
    assert sink.create_log_stream() is True
    sink.close()
