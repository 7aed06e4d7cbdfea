"""lib.config: layering, interpolation, overrides, typing, and the errors that name key and file."""

from __future__ import annotations

import dataclasses
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from lib.config import (
    AppConfig,
    ConfigError,
    SecretInConfigError,
    SecretRef,
    load_config,
)

REPO_CONF = Path(__file__).resolve().parents[3] / "conf"


def write_conf(directory: Path, **files: str) -> Path:
    for name, text in files.items():
        (directory / f"{name}.yaml").write_text(textwrap.dedent(text))
    return directory


MINIMAL_BASE = "project: p\naws: {region: eu-west-1}\nspark: {app_name: app}\n"


@dataclass(frozen=True)
class DemoSettings:
    source: str
    batch_size: int = 100
    tags: tuple[str, ...] = ()


# ----------------------------------------------------------------------------- the repo's conf


@pytest.mark.parametrize("env", ["local", "dev", "prod"])
def test_every_environment_of_the_repository_loads(env):
    config = load_config(env, environ={})
    assert isinstance(config, AppConfig)
    assert config.env == env
    assert config.sources[0].endswith("base.yaml")


def test_local_env_points_at_the_emulator_from_aws_endpoint_url():
    config = load_config("local", environ={"AWS_ENDPOINT_URL": "http://127.0.0.1:4566"})
    assert config.aws.endpoint_url == "http://127.0.0.1:4566"
    assert config.spark.profile == "local"
    assert config.spark.committer == "magic"


def test_local_env_has_a_documented_default_endpoint():
    config = load_config("local", environ={})
    assert config.aws.endpoint_url == "http://127.0.0.1:5000"


def test_cloud_envs_use_aws_endpoints_and_platform_committers():
    config = load_config("prod", environ={})
    assert config.aws.endpoint_url is None
    assert config.spark.profile == "cloud"
    assert config.spark.committer == "platform"
    assert config.alerts.slack_webhook == SecretRef(
        secret_id="datalake-etl/prod/slack", key="webhook_url"
    )


def test_config_is_frozen_all_the_way_down():
    config = load_config("local", environ={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.spark.delta = False  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.spark.conf["spark.x"] = "y"  # type: ignore[index]


# ----------------------------------------------------------------------------- layering


def test_env_file_overlays_base_and_job_section_overlays_both(tmp_path):
    write_conf(
        tmp_path,
        base="""
            project: p
            aws: {region: eu-west-1, max_attempts: 4}
            spark: {app_name: base-app, shuffle_partitions: 10, conf: {a.b: 1, c.d: x}}
            jobs:
              demo:
                spark: {app_name: demo-app}
                source: s3://in/
        """,
        dev="""
            spark: {shuffle_partitions: 20, conf: {c.d: y}}
            jobs:
              demo:
                batch_size: 7
        """,
    )
    config = load_config("dev", job="demo", job_schema=DemoSettings, conf_dir=tmp_path, environ={})
    assert config.spark.app_name == "demo-app"
    assert config.spark.shuffle_partitions == 20
    assert dict(config.spark.conf) == {"a.b": 1, "c.d": "y"}
    assert config.aws.max_attempts == 4
    assert config.job == DemoSettings(source="s3://in/", batch_size=7)
    assert config.job_name == "demo"


def test_command_line_overrides_win_and_are_typed_by_the_schema(tmp_path):
    write_conf(tmp_path, base=MINIMAL_BASE + "jobs: {demo: {source: s3://a/}}\n")
    config = load_config(
        "local",
        job="demo",
        job_schema=DemoSettings,
        overrides=[
            "spark.shuffle_partitions=16",
            "spark.delta=true",
            "spark.conf.spark.sql.adaptive.enabled=false",
            "spark.s3a_buckets.public-data.anonymous=yes",
            "job.batch_size=5",
            "aws.endpoint_url=null",
        ],
        conf_dir=tmp_path,
        environ={},
    )
    assert config.spark.shuffle_partitions == 16
    assert config.spark.delta is True
    # a mapping field takes the rest of the dotted key as one key
    assert config.spark.conf["spark.sql.adaptive.enabled"] == "false"
    assert config.spark.s3a_buckets["public-data"].anonymous is True
    assert config.job.batch_size == 5
    assert config.aws.endpoint_url is None


def test_override_of_unknown_key_names_it(tmp_path):
    write_conf(tmp_path, base=MINIMAL_BASE)
    with pytest.raises(ConfigError, match=r"key 'spark\.shufle_partitions'.*--set"):
        load_config("local", overrides=["spark.shufle_partitions=3"], conf_dir=tmp_path, environ={})


def test_override_needs_key_and_value(tmp_path):
    write_conf(tmp_path, base=MINIMAL_BASE)
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        load_config("local", overrides=["spark.delta"], conf_dir=tmp_path, environ={})


# ----------------------------------------------------------------------------- interpolation


def test_environment_interpolation_with_defaults_and_escape(tmp_path):
    write_conf(
        tmp_path,
        base="""
            project: ${PROJECT}
            aws: {region: "${REGION:-us-east-1}", max_attempts: "${ATTEMPTS:-3}"}
            spark: {app_name: "app-$${literal}", conf: {path: "s3://${BUCKET}/x"}}
        """,
    )
    config = load_config(
        "local", conf_dir=tmp_path, environ={"PROJECT": "proj", "ATTEMPTS": "8", "BUCKET": "b"}
    )
    assert config.project == "proj"
    assert config.aws.region == "us-east-1"
    assert config.aws.max_attempts == 8  # text from the environment, typed by the field
    assert config.spark.app_name == "app-${literal}"
    assert config.spark.conf["path"] == "s3://b/x"


def test_unset_variable_without_default_names_key_and_file(tmp_path):
    write_conf(tmp_path, base=MINIMAL_BASE, local="aws: {profile: '${AWS_PROFILE_NAME}'}\n")
    with pytest.raises(ConfigError) as error:
        load_config("local", conf_dir=tmp_path, environ={})
    assert error.value.key == "aws.profile"
    assert error.value.source.endswith("local.yaml")
    assert "AWS_PROFILE_NAME" in str(error.value)


def test_an_empty_variable_takes_the_default_like_the_shell(tmp_path):
    """`${VAR:-default}`: the default when VAR is unset *or empty* (an empty AWS_ENDPOINT_URL
    in env local must not mean AWS's real endpoints); `${VAR}` keeps an empty value."""
    write_conf(
        tmp_path,
        base=MINIMAL_BASE,
        local="aws: {endpoint_url: '${AWS_ENDPOINT_URL:-http://127.0.0.1:5000}'}\n",
    )
    config = load_config("local", conf_dir=tmp_path, environ={"AWS_ENDPOINT_URL": ""})
    assert config.aws.endpoint_url == "http://127.0.0.1:5000"
    write_conf(tmp_path, base=MINIMAL_BASE, local="aws: {profile: '${P}'}\n")
    assert load_config("local", conf_dir=tmp_path, environ={"P": ""}).aws.profile in ("", None)


@pytest.mark.parametrize("text", ["${REGION:eu-west-1}", "${APP", "x-${}", "${1X}", "${A:-b"])
def test_a_malformed_reference_is_an_error_naming_key_and_file(tmp_path, text):
    write_conf(tmp_path, base=MINIMAL_BASE, local=f"aws: {{region: '{text}'}}\n")
    with pytest.raises(ConfigError, match="malformed") as error:
        load_config("local", conf_dir=tmp_path, environ={"REGION": "r", "APP": "a", "A": "a"})
    assert error.value.key == "aws.region"
    assert error.value.source.endswith("local.yaml")


def test_interpolated_text_that_is_not_a_number_is_a_type_error(tmp_path):
    write_conf(tmp_path, base=MINIMAL_BASE, dev="aws: {max_attempts: '${N}'}\n")
    with pytest.raises(ConfigError, match=r"expected int.*key 'aws\.max_attempts'.*dev\.yaml"):
        load_config("dev", conf_dir=tmp_path, environ={"N": "many"})


# ----------------------------------------------------------------------------- errors


def test_unknown_key_names_key_and_file_and_suggests(tmp_path):
    write_conf(tmp_path, base=MINIMAL_BASE, dev="spark: {shuffle_partition: 3}\n")
    with pytest.raises(ConfigError) as error:
        load_config("dev", conf_dir=tmp_path, environ={})
    assert error.value.key == "spark.shuffle_partition"
    assert error.value.source.endswith("dev.yaml")
    assert "did you mean 'shuffle_partitions'" in str(error.value)


def test_unknown_top_level_section(tmp_path):
    write_conf(tmp_path, base=MINIMAL_BASE + "sparkk: {}\n")
    with pytest.raises(ConfigError, match=r"key 'sparkk'.*base\.yaml"):
        load_config("local", conf_dir=tmp_path, environ={})


@pytest.mark.parametrize(
    ("overlay", "key", "expected"),
    [
        ("aws: {max_attempts: three}", "aws.max_attempts", "expected int"),
        ("aws: {max_attempts: true}", "aws.max_attempts", "expected int"),
        ("spark: {delta: 'yes'}", "spark.delta", "expected bool"),
        ("spark: {committer: fast}", "spark.committer", "expected one of"),
        ("spark: {conf: [a, b]}", "spark.conf", "expected a mapping"),
        ("logging: {cloudwatch: 5}", "logging.cloudwatch", "expected a mapping"),
    ],
)
def test_wrong_type_names_key_and_file(tmp_path, overlay, key, expected):
    write_conf(tmp_path, base=MINIMAL_BASE, dev=overlay + "\n")
    with pytest.raises(ConfigError) as error:
        load_config("dev", conf_dir=tmp_path, environ={})
    assert error.value.key == key
    assert error.value.source.endswith("dev.yaml")
    assert expected in str(error.value)


def test_missing_required_value_names_key(tmp_path):
    write_conf(tmp_path, base="project: p\naws: {}\nspark: {master: local}\n")
    with pytest.raises(ConfigError) as error:
        load_config("local", conf_dir=tmp_path, environ={})
    assert error.value.key == "spark.app_name"
    assert "missing required value" in str(error.value)
    assert error.value.source.endswith("base.yaml")


def test_missing_required_job_setting_names_key(tmp_path):
    write_conf(tmp_path, base=MINIMAL_BASE)
    with pytest.raises(ConfigError, match=r"missing required value.*key 'job\.source'"):
        load_config("local", job="demo", job_schema=DemoSettings, conf_dir=tmp_path, environ={})


def test_job_settings_without_a_schema_are_unknown(tmp_path):
    write_conf(tmp_path, base=MINIMAL_BASE + "jobs: {demo: {whatever: 1}}\n")
    with pytest.raises(ConfigError, match=r"key 'jobs\.demo\.whatever'.*base\.yaml"):
        load_config("local", job="demo", conf_dir=tmp_path, environ={})


def test_null_for_a_required_value(tmp_path):
    write_conf(tmp_path, base=MINIMAL_BASE, dev="aws: {region: null}\n")
    with pytest.raises(ConfigError, match=r"key 'aws\.region'.*dev\.yaml"):
        load_config("dev", conf_dir=tmp_path, environ={})


def test_missing_base_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config("local", conf_dir=tmp_path, environ={})
    write_conf(tmp_path, base="project: [unclosed\n")
    with pytest.raises(ConfigError, match=r"(?s)invalid YAML.*base\.yaml"):
        load_config("local", conf_dir=tmp_path, environ={})


def test_unknown_environment():
    with pytest.raises(ConfigError, match="unknown environment 'staging'"):
        load_config("staging", environ={})


# ----------------------------------------------------------------------------- secrets


@pytest.mark.parametrize(
    "overlay",
    [
        "alerts: {slack_webhook: 'https://hooks.slack.com/services/T0/B0/XXXX'}",
        "spark: {conf: {spark.hadoop.fs.s3a.secret.key: abc123}}",
        "spark: {conf: {spark.hadoop.fs.s3a.access.key: AKIAXXXX}}",
        "spark: {s3a_buckets: {b: {conf: {fs.s3a.session.token: tok}}}}",
        # issue 13.13: numbers, passwords in URLs, keys in query strings
        "spark: {conf: {spark.hadoop.fs.s3a.secret.key: 12345678}}",
        "spark: {conf: {spark.hadoop.fs.s3a.secret.key: 1.5e9}}",
        "aws: {endpoint_url: 'http://admin:hunter2@127.0.0.1:5000'}",
        "spark: {conf: {spark.jdbc.url: 'postgres://etl:pa55word@db:5432/lake'}}",
        "spark: {conf: {spark.api.url: 'https://api.example.com/v1?api_key=abc123'}}",
        "aws: {endpoint_url: 'https://logs.example.com/?X-Amz-Signature=abc'}",
        "aws: {endpoint_url: 'http://h/#access_token=x'}",
        "aws: {endpoint_url: 'http://h/api;password=x'}",
        "spark: {conf: {spark.x.auth: 'Bearer abcdefghij123'}}",
        "spark: {conf: {spark.hadoop.fs.azure.account.key.acct.blob.core.windows.net: abc}}",
        "spark: {conf: {spark.x.url: 'see https://h/x?a=1&access_token=zz9 for details'}}",
        "spark: {conf: {spark.jdbc.db_pass: hunter2}}",
        "spark: {conf: {spark.x.auth_key: s3cr3t}}",
        "spark: {conf: {spark.redis.auth: hunter2}}",
        "spark: {conf: {spark.x.SSOPass: hunter2}}",
        "spark: {conf: {spark.x.url: 'https://x.firebaseio.com/a.json?auth=hunter2'}}",
        "spark: {conf: {spark.x.dbPass: s3cr3t}}",
    ],
)
def test_secrets_are_never_values(tmp_path, overlay):
    write_conf(tmp_path, base=MINIMAL_BASE, prod=overlay + "\n")
    with pytest.raises(SecretInConfigError) as error:
        load_config("prod", conf_dir=tmp_path, environ={})
    assert error.value.source.endswith("prod.yaml")
    assert "secret_id" in str(error.value)


def test_urls_without_secrets_and_non_secret_numbers_are_accepted(tmp_path):
    write_conf(
        tmp_path,
        base=MINIMAL_BASE,
        prod="""
            aws: {endpoint_url: 'http://user@127.0.0.1:5000/?region=eu-west-1&page=2'}
            spark: {conf: {spark.x.keys: 3, spark.redaction.regex: '(?i)secret|token',
                           spark.hadoop.fs.azure.account.auth.type: OAuth,
                           spark.x.passenger.count: 3, spark.x.author: jane,
                           spark.cassandra.auth.username: etl, spark.x.jwt.issuer: x,
                           spark.hadoop.hadoop.http.authentication.cookie.domain: x.com,
                           spark.x.creds.file: /etc/c.json, spark.x.pass_count: 3,
                           spark.ssl.needClientAuth: 'true', spark.x.needClientAuth: 1,
                           spark.x.hive: 'jdbc:hive2://h:10000/default;auth=noSasl'}}
        """,
    )
    config = load_config("prod", conf_dir=tmp_path, environ={})
    assert config.aws.endpoint_url.startswith("http://user@")


def test_secret_references_are_accepted(tmp_path):
    write_conf(
        tmp_path,
        base=MINIMAL_BASE,
        prod="""
            alerts: {slack_webhook: {env: SLACK_WEBHOOK_URL}}
            spark:
              conf: {spark.hadoop.fs.s3a.aws.credentials.provider: com.amazonaws.auth.X}
        """,
    )
    config = load_config("prod", conf_dir=tmp_path, environ={})
    assert config.alerts.slack_webhook == SecretRef(env="SLACK_WEBHOOK_URL")
    assert config.alerts.slack_webhook.describe() == "env:SLACK_WEBHOOK_URL"


def test_a_secret_reference_names_exactly_one_place(tmp_path):
    write_conf(
        tmp_path,
        base=MINIMAL_BASE,
        prod="alerts: {slack_webhook: {env: A, secret_id: b}}\n",
    )
    with pytest.raises(ConfigError, match=r"exactly one.*alerts\.slack_webhook.*prod\.yaml"):
        load_config("prod", conf_dir=tmp_path, environ={})


@pytest.mark.parametrize(
    "overlay",
    [
        "logging: {cloudwatch: {retention_days: 31}}",
        "logging: {cloudwatch: {flush_deadline: 0}}",
        "aws: {read_timeout: 0}",
        "aws: {max_attempts: 0}",
    ],
)
def test_logging_and_client_settings_aws_would_refuse_fail_at_load(tmp_path, overlay):
    write_conf(tmp_path, base=MINIMAL_BASE, prod=overlay + "\n")
    with pytest.raises(ConfigError, match=r"prod\.yaml"):
        load_config("prod", conf_dir=tmp_path, environ={})


def test_a_nested_reference_in_a_default_is_an_error(tmp_path):
    write_conf(tmp_path, base=MINIMAL_BASE, prod="aws: {region: '${A:-${B}}'}\n")
    for environ in ({}, {"A": "a", "B": "b"}):
        with pytest.raises(ConfigError, match=r"aws\.region"):
            load_config("prod", conf_dir=tmp_path, environ=environ)
