"""Slack alerts against a real local HTTP server standing in for the incoming webhook."""

from __future__ import annotations

import json

import boto3

from lib.alerts import SlackAlerter, job_failure_text
from lib.aws.secrets import Secrets
from lib.config import AlertsConfig, SecretRef


def test_posts_a_message(webhook):
    result = SlackAlerter(webhook.url).post("hello")
    assert result.delivered and result.status == 200
    assert webhook.bodies == [{"text": "hello"}]


def test_retries_429_and_5xx_honouring_retry_after(webhook):
    sleeps: list[float] = []
    webhook.answers = [(429, {"Retry-After": "3"}), (503, {})]
    result = SlackAlerter(webhook.url, sleep=sleeps.append, backoff_factor=0.01).post("again")
    assert result.delivered
    assert len(webhook.bodies) == 3
    assert sleeps[0] >= 3.0  # Retry-After is the lower bound of the first wait


def test_gives_up_without_raising(webhook):
    webhook.answers = [(500, {})] * 10
    result = SlackAlerter(webhook.url, max_attempts=3, sleep=lambda s: None).post("x")
    assert not result.delivered
    assert result.status == 500
    assert len(webhook.bodies) == 3


def test_an_unreachable_webhook_never_raises_into_the_caller():
    alerter = SlackAlerter("http://127.0.0.1:9/hook", max_attempts=2, sleep=lambda s: None)
    result = alerter.post("nobody listens")
    assert not result.delivered
    assert "ConnectionError" in result.error
    assert not SlackAlerter(None).post("no webhook").delivered


def test_client_errors_are_not_retried(webhook):
    webhook.answers = [(404, {})]
    result = SlackAlerter(webhook.url, sleep=lambda s: None).post("gone")
    assert result.status == 404
    assert len(webhook.bodies) == 1


def test_webhook_from_the_environment(webhook, monkeypatch):
    monkeypatch.setenv("SLACK_WEBHOOK_URL", webhook.url)
    config = AlertsConfig(slack_webhook=SecretRef(env="SLACK_WEBHOOK_URL"))
    assert SlackAlerter.from_config(config).post("from env").delivered


def test_webhook_from_secrets_manager_is_masked(webhook, moto_server, caplog):
    client = boto3.client(
        "secretsmanager", endpoint_url=moto_server.endpoint_url, region_name="eu-west-1"
    )
    client.create_secret(Name="etl/slack", SecretString=json.dumps({"webhook_url": webhook.url}))
    secrets = Secrets(lambda: client)
    config = AlertsConfig(slack_webhook=SecretRef(secret_id="etl/slack", key="webhook_url"))
    alerter = SlackAlerter.from_config(config, secrets=secrets, sleep=lambda s: None)
    webhook.answers = [(400, {})]
    result = alerter.post(f"the url is {webhook.url}")
    assert not result.delivered
    # the webhook URL never shows in what we log or return
    assert "secretpart" not in caplog.text
    assert "secretpart" not in (result.error or "")
    assert alerter.redactor.text(webhook.url) == "*****"


def test_job_failure_summary(webhook):
    error = ValueError("bad row count")
    text = job_failure_text("xetra", "prod", "app-42", error, "https://logs.example/x")
    assert "*xetra* failed in *prod*" in text
    assert "app-42" in text
    assert "ValueError: bad row count" in text
    assert "https://logs.example/x" in text
    result = SlackAlerter(webhook.url).job_failed("xetra", "prod", "app-42", error)
    assert result.delivered
    assert "bad row count" in webhook.bodies[0]["text"]
