"""Secrets Manager reads with a TTL cache; JSON secrets come back parsed.

    aws.secrets.get_secret("datalake-etl/prod/slack")                 # dict when JSON
    aws.secrets.get_secret("datalake-etl/prod/slack", key="webhook_url")
    aws.secrets.resolve(SecretRef(env="SLACK_WEBHOOK_URL"))            # env or Secrets Manager

Values are never logged. Each value read is handed to `on_secret` (a Logger's `mask`), so that
loggers can redact it wherever it appears later.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from lib.aws.errors import (
    ACCESS_DENIED_CODES,
    SecretError,
    SecretNotFound,
    error_code,
)
from lib.config import SecretRef


class Secrets:
    def __init__(
        self,
        client_factory: Callable[[], Any],
        ttl_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        on_secret: Callable[[str], None] | None = None,
        environ: Mapping[str, str] | None = None,
    ):
        self._client_factory = client_factory
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._on_secret = on_secret
        self._environ = environ
        self._cache: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get_secret(self, secret_id: str, key: str | None = None) -> Any:
        """The secret's value: parsed JSON when it is JSON, else its string (or bytes)."""
        value = self._cached(secret_id)
        if key is None:
            return value
        if not isinstance(value, dict) or key not in value:
            raise SecretError(f"has no JSON key {key!r}", secret_id)
        return value[key]

    def resolve(self, reference: SecretRef) -> Any:
        """The value a config SecretRef names (environment variable or Secrets Manager)."""
        if reference.env is not None:
            environ = os.environ if self._environ is None else self._environ
            if reference.env not in environ:
                raise SecretError("environment variable is not set", f"env:{reference.env}")
            value = environ[reference.env]
            self._notify(value)
            return value
        assert reference.secret_id is not None
        return self.get_secret(reference.secret_id, reference.key)

    def on_secret(self, callback: Callable[[str], None] | None) -> None:
        """Hand every value read from now on to `callback` (a Logger's `mask`)."""
        self._on_secret = callback

    def invalidate(self, secret_id: str | None = None) -> None:
        with self._lock:
            if secret_id is None:
                self._cache.clear()
            else:
                self._cache.pop(secret_id, None)

    def _cached(self, secret_id: str) -> Any:
        now = self._clock()
        with self._lock:
            hit = self._cache.get(secret_id)
            if hit is not None and now - hit[0] < self.ttl_seconds:
                return hit[1]
        value = self._fetch(secret_id)
        with self._lock:
            self._cache[secret_id] = (now, value)
        return value

    def _fetch(self, secret_id: str) -> Any:
        try:
            response = self._client_factory().get_secret_value(SecretId=secret_id)
        except ClientError as error:
            code = error_code(error)
            if code == "ResourceNotFoundException":
                raise SecretNotFound("not found", secret_id, code) from error
            if code in ACCESS_DENIED_CODES:
                raise SecretError("access denied", secret_id, code) from error
            raise SecretError(f"GetSecretValue failed ({code})", secret_id, code) from error
        if "SecretString" in response:
            text = response["SecretString"]
            self._notify(text)
            try:
                parsed = json.loads(text)
            except ValueError:
                return text
            if isinstance(parsed, dict):
                for item in parsed.values():
                    if isinstance(item, str):
                        self._notify(item)
            return parsed
        return response["SecretBinary"]

    def _notify(self, value: str) -> None:
        if self._on_secret is not None and value:
            self._on_secret(value)
