"""The CloudWatch part of the bench on a real moto server: the sink delivers everything, and the
floor the bench prints (a handler that only formats) is a real measurement below it."""

from __future__ import annotations


def test_the_sink_delivers_every_event_and_costs_more_than_the_floor(moto_server):
    from tooling.bench.cloudwatch import messages, ours, stdlib_floor

    lines = messages(2000)
    sink = ours(moto_server.endpoint_url, lines)
    assert sink["events_delivered"] == 2000
    assert sink["us_per_log_call"] > stdlib_floor(lines) > 0
