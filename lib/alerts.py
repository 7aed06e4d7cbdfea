"""Slack alerts through an incoming webhook. Alerting never raises into the caller.

    alerter = SlackAlerter.from_config(config.alerts, secrets=aws.secrets)
    alerter.post("nightly load finished")
    alerter.job_failed(job="my_job", env="prod", run_id=app_id, error=error,
                       logs="https://console.aws.amazon.com/cloudwatch/...")

The webhook URL is a secret: it comes from Secrets Manager or the environment (a config
SecretRef), is resolved on first use, and never appears in a log line (it is masked).
429 and 5xx answers are retried with backoff, honouring Retry-After (lib.aws.retry).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from lib.aws.retry import retry
from lib.config import AlertsConfig, SecretRef
from lib.redact import Redactor

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertResult:
    delivered: bool
    status: int | None = None
    error: str | None = None


def job_failure_text(
    job: str, env: str, run_id: str | None, error: BaseException | str, logs: str | None
) -> str:
    """The one-glance failure summary: what failed, where, why, and where to look."""
    reason = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else error
    lines = [
        f":rotating_light: *{job}* failed in *{env}*",
        f"run: `{run_id or 'n/a'}`",
        f"error: {reason}",
    ]
    if logs:
        lines.append(f"logs: {logs}")
    return "\n".join(lines)


class SlackAlerter:
    def __init__(
        self,
        webhook_url: str | Callable[[], str | None] | None,
        timeout_seconds: float = 5.0,
        max_attempts: int = 4,
        backoff_factor: float = 0.5,
        deadline: float = 30.0,
        redactor: Redactor | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self._webhook = webhook_url
        self._resolved: str | None = None
        self.timeout_seconds = timeout_seconds
        self.redactor = redactor or Redactor()
        self._session = session or requests.Session()
        retry_options: dict[str, Any] = {
            "max_attempts": max_attempts,
            "backoff_factor": backoff_factor,
            "deadline": deadline,
        }
        if sleep is not None:
            retry_options["sleep"] = sleep
        self._post = retry(**retry_options)(self._post_once)

    @classmethod
    def from_config(cls, config: AlertsConfig, secrets: Any = None, **options: Any):
        reference: SecretRef | None = config.slack_webhook

        def resolve() -> str | None:
            if reference is None:
                return None
            if secrets is None:
                if reference.env is None:
                    raise ValueError("a Secrets Manager webhook needs a Secrets helper")
                import os

                return os.environ.get(reference.env)
            return secrets.resolve(reference)

        return cls(resolve, timeout_seconds=config.timeout_seconds, **options)

    @property
    def enabled(self) -> bool:
        return self._webhook is not None

    def _url(self) -> str | None:
        if self._resolved is None and self._webhook is not None:
            url = self._webhook() if callable(self._webhook) else self._webhook
            if url:
                self.redactor.mask(url)
                # HTTP errors quote only the path ("url: /services/T…/B…/…"): mask it too
                path = urlsplit(url).path
                if len(path) >= 8:
                    self.redactor.mask(path)
                self._resolved = url
        return self._resolved

    def _post_once(self, url: str, payload: dict[str, Any]) -> requests.Response:
        return self._session.post(url, json=payload, timeout=self.timeout_seconds)

    def post(self, text: str, blocks: list[dict[str, Any]] | None = None) -> AlertResult:
        """Send a message; returns what happened and never raises."""
        try:
            url = self._url()
            if url is None:
                return AlertResult(False, error="no webhook configured")
            payload: dict[str, Any] = {"text": text}
            if blocks:
                payload["blocks"] = blocks
            response = self._post(url, payload)
        except Exception as error:
            message = self.redactor.text(f"{type(error).__name__}: {error}")
            LOG.warning("slack alert not delivered: %s", message)
            return AlertResult(False, error=message)
        if 200 <= response.status_code < 300:
            return AlertResult(True, response.status_code)
        body = self.redactor.text(response.text[:200])
        LOG.warning("slack alert not delivered: HTTP %s %s", response.status_code, body)
        return AlertResult(False, response.status_code, body)

    def job_failed(
        self,
        job: str,
        env: str,
        run_id: str | None,
        error: BaseException | str,
        logs: str | None = None,
    ) -> AlertResult:
        text = self.redactor.text(job_failure_text(job, env, run_id, error, logs))
        return self.post(text)
