"""The CloudWatch part of the bench on a real moto server: the sink delivers everything, the
floor the bench prints (a handler that only formats) is measured, and rounds are summarised by
their median and by the round that delivered least."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("delivery", ["process", "thread"])
def test_the_sink_delivers_every_event_and_the_floor_is_measured(moto_server, delivery):
    from tooling.bench.cloudwatch import messages, ours, stdlib_floor

    lines = messages(2000)
    sink = ours(moto_server.endpoint_url, lines, delivery=delivery)
    assert sink["events_delivered"] == 2000
    assert sink["put_log_events_calls"] >= 1
    # both are timings (compared in the bench, not here: a test must not flake on a busy box)
    assert sink["us_per_log_call"] > 0
    assert sink["cpu_us_per_event"] > 0
    assert stdlib_floor(lines) > 0


def test_rounds_report_the_median_per_call_and_the_round_that_delivered_least():
    from tooling.bench.cloudwatch import summarised

    rounds = [
        {"us_per_log_call": 9.0, "drain_seconds": 1.0, "cpu_us_per_event": 20.0,
         "put_log_events_calls": 3, "events_delivered_at_close": 10, "events_delivered": 10},
        {"us_per_log_call": 30.0, "drain_seconds": 3.0, "cpu_us_per_event": 50.0,
         "put_log_events_calls": 3, "events_delivered_at_close": 7, "events_delivered": 9},
        # late at close, complete after settling
        {"us_per_log_call": 12.0, "drain_seconds": 2.0, "cpu_us_per_event": 30.0,
         "put_log_events_calls": 3, "events_delivered_at_close": 4, "events_delivered": 10},
    ]  # fmt: skip
    result = summarised(rounds)
    assert result["us_per_log_call"] == 12.0
    assert result["us_per_log_call_rounds"] == [9.0, 30.0, 12.0]
    assert result["drain_seconds"] == 2.0
    assert result["cpu_us_per_event"] == 30.0
    assert result["put_log_events_calls"] == 3
    assert result["events_delivered"] == 9  # a round that lost an event is what shows
    assert result["events_delivered_at_close"] == 4


def test_a_round_short_of_any_event_is_a_missed_target():
    from tooling.bench.__main__ import missed_targets

    ratios = {"warm_vs_duckdb": 7.0, "cold_vs_pandas": None, "cloudwatch_vs_watchtower": 0.4}
    complete = {"events": 100, "datalake_etl": {"events_delivered": 100}}
    assert missed_targets(ratios, complete) == []
    short = {"events": 100, "datalake_etl": {"events_delivered": 99}}
    assert missed_targets(ratios, short) == ["cloudwatch delivered 99 of 100 events in a round"]
    slow = dict(ratios, warm_vs_duckdb=9.5)
    assert missed_targets(slow, complete) == ["warm_vs_duckdb 9.50 > 8.0"]
    floors = {"warm_vs_duckdb": 8.4, "cold_vs_pandas": None, "cloudwatch_vs_watchtower": 0.3}
    assert missed_targets(slow, complete, floors) == [
        "warm_vs_duckdb 9.50 > 8.0 (its floor alone 8.40)"
    ]
    assert missed_targets(slow, complete, dict(floors, warm_vs_duckdb=7.9)) == [
        "warm_vs_duckdb 9.50 > 8.0"
    ]


def test_floor_ratios_are_the_targets_ratios_for_no_work_of_our_own():
    from tooling.bench.__main__ import floor_ratios

    xetra = {"seconds": {"duckdb": 0.5, "spark_floor": 4.2, "pandas": 8.0}, "daily": None}
    cloudwatch = {"stdlib_floor_us_per_log_call": 5.0, "watchtower": {"us_per_log_call": 12.5}}
    assert floor_ratios(xetra, cloudwatch) == {
        "warm_vs_duckdb": 8.4,
        "cold_vs_pandas": None,
        "cloudwatch_vs_watchtower": 0.4,
    }
    xetra["daily"] = {"empty_run": 6.0}
    assert floor_ratios(xetra, cloudwatch)["cold_vs_pandas"] == 0.75


def test_the_bench_refuses_fewer_than_one_run():
    from tooling.bench.__main__ import parse_args

    assert parse_args(["--repeat", "1"]).repeat == 1
    for bad in ("0", "-2", "x"):
        with pytest.raises(SystemExit):
            parse_args(["--repeat", bad])
