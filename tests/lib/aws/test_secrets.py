"""lib.aws.secrets against moto: JSON parsing, TTL cache, errors naming the secret."""

from __future__ import annotations

import json

import boto3
import pytest

from lib.aws import SecretError, SecretNotFound
from lib.aws.secrets import Secrets
from lib.config import SecretRef


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def secretsmanager(moto_server):
    return boto3.client(
        "secretsmanager", endpoint_url=moto_server.endpoint_url, region_name="eu-west-1"
    )


def test_json_secret_is_parsed_and_a_key_can_be_picked(aws, secretsmanager):
    secretsmanager.create_secret(
        Name="etl/slack", SecretString=json.dumps({"webhook_url": "https://x", "n": 1})
    )
    assert aws.secrets.get_secret("etl/slack") == {"webhook_url": "https://x", "n": 1}
    assert aws.secrets.get_secret("etl/slack", key="webhook_url") == "https://x"
    with pytest.raises(SecretError, match=r"no JSON key 'token'.*etl/slack"):
        aws.secrets.get_secret("etl/slack", key="token")


def test_plain_and_binary_secrets(aws, secretsmanager):
    secretsmanager.create_secret(Name="plain", SecretString="not json {")
    secretsmanager.create_secret(Name="binary", SecretBinary=b"\x00\x01")
    assert aws.secrets.get_secret("plain") == "not json {"
    assert aws.secrets.get_secret("binary") == b"\x00\x01"


def test_cache_honours_the_ttl(moto_server, secretsmanager, aws):
    secretsmanager.create_secret(Name="rotating", SecretString="v1")
    clock = FakeClock()
    calls = []
    client = aws.client("secretsmanager")
    client.meta.events.register(
        "before-call.secrets-manager.GetSecretValue", lambda **kwargs: calls.append(1)
    )
    secrets = Secrets(lambda: client, ttl_seconds=60, clock=clock)
    assert secrets.get_secret("rotating") == "v1"
    secretsmanager.put_secret_value(SecretId="rotating", SecretString="v2")
    clock.now += 59
    assert secrets.get_secret("rotating") == "v1"  # cached
    assert len(calls) == 1
    clock.now += 2
    assert secrets.get_secret("rotating") == "v2"  # expired: read again
    assert len(calls) == 2
    secrets.invalidate("rotating")
    secrets.get_secret("rotating")
    assert len(calls) == 3


def test_missing_secret_names_it(aws):
    with pytest.raises(SecretNotFound, match="secret 'nope/missing'") as error:
        aws.secrets.get_secret("nope/missing")
    assert error.value.secret_id == "nope/missing"


def test_resolve_a_config_reference(aws, secretsmanager):
    secretsmanager.create_secret(Name="etl/api", SecretString=json.dumps({"key": "s3cr3t-value"}))
    masked = []
    secrets = Secrets(
        lambda: aws.client("secretsmanager"),
        on_secret=masked.append,
        environ={"API_TOKEN": "from-env-1234"},
    )
    assert secrets.resolve(SecretRef(secret_id="etl/api", key="key")) == "s3cr3t-value"
    assert secrets.resolve(SecretRef(env="API_TOKEN")) == "from-env-1234"
    # every value read is handed over for masking in logs
    assert "s3cr3t-value" in masked
    assert "from-env-1234" in masked
    with pytest.raises(SecretError, match="env:MISSING"):
        secrets.resolve(SecretRef(env="MISSING"))
