"""Layered YAML configuration loaded once into frozen dataclasses.

Layers, later wins: ``conf/base.yaml`` -> ``conf/<env>.yaml`` -> the job's own section
(``jobs.<name>`` in either file) -> command-line overrides (``--set spark.conf.x=y``).

* ``${VAR}`` and ``${VAR:-default}`` are replaced from the environment; ``$${`` is a literal
  ``${``.
  A value that came from the environment or from ``--set`` is text, and is converted to the
  field's type (``"8"`` -> 8 for an int field).
* Secrets are never values: a secret-bearing field holds a :class:`SecretRef` naming a Secrets
  Manager id or an environment variable. A plain string under a key that looks like a secret
  (password, token, secret key, webhook ...) is rejected.
* Unknown keys, wrong types and missing required values raise :class:`ConfigError` naming the
  dotted key and the file it came from.

The config folder is, in order: the ``conf_dir`` argument (a path, ``file://`` or ``s3://`` URI),
``$ETL_CONF_DIR``, the ``conf/`` folder of the checkout, or the copy packaged inside the library
(``lib/_conf``, present in the wheel and in the ``--py-files`` archive).
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

ENVIRONMENTS = ("local", "dev", "prod")
CONF_DIR_ENV = "ETL_CONF_DIR"
DEFAULT_LOCAL_ENDPOINT = "http://127.0.0.1:5000"

ConfScalar = str | int | float | bool


class ConfigError(ValueError):
    """A configuration problem, naming the key and the file it concerns."""

    def __init__(self, message: str, key: str | None = None, source: str | None = None):
        self.key = key
        self.source = source
        where = []
        if key:
            where.append(f"key '{key}'")
        if source:
            where.append(f"in {source}")
        super().__init__(f"{message} ({', '.join(where)})" if where else message)


class SecretInConfigError(ConfigError):
    """A secret was written into the configuration as a value."""

    def __init__(self, key: str, source: str | None):
        super().__init__(
            "secrets are never values in config: give {secret_id: <Secrets Manager id>} or "
            "{env: <VARIABLE>} instead",
            key,
            source,
        )


# --------------------------------------------------------------------------- schema


@dataclass(frozen=True)
class SecretRef:
    """Where a secret lives: a Secrets Manager id (optionally one JSON key in it) or an env var."""

    secret_id: str | None = None
    env: str | None = None
    key: str | None = None

    def __post_init__(self) -> None:
        if (self.secret_id is None) == (self.env is None):
            raise ValueError("a secret reference names exactly one of 'secret_id' or 'env'")

    def describe(self) -> str:
        if self.secret_id is not None:
            return f"secretsmanager:{self.secret_id}" + (f"#{self.key}" if self.key else "")
        return f"env:{self.env}"


@dataclass(frozen=True)
class AwsConfig:
    region: str = "eu-west-1"
    profile: str | None = None
    # None = AWS's own endpoints. The local env sets it from AWS_ENDPOINT_URL (moto server).
    endpoint_url: str | None = None
    max_attempts: int = 10
    retry_mode: Literal["standard", "adaptive", "legacy"] = "standard"


@dataclass(frozen=True)
class S3ABucketConfig:
    """Per-bucket S3A settings (fs.s3a.bucket.<name>.*)."""

    anonymous: bool = False
    endpoint: str | None = None
    region: str | None = None
    conf: Mapping[str, ConfScalar] = field(default_factory=dict)


@dataclass(frozen=True)
class SparkConfig:
    app_name: str
    # None: take the master from spark-submit / the platform (EMR, Glue).
    master: str | None = None
    # local: S3A on an emulator endpoint with the project's jars; cloud: the platform's setup.
    profile: Literal["local", "cloud"] = "cloud"
    log_level: Literal["ALL", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "OFF"] = "WARN"
    delta: bool = False
    # magic/directory/partitioned: S3A committers (local profile); platform: leave it to EMR/Glue.
    committer: Literal["magic", "directory", "partitioned", "platform"] = "platform"
    committer_conflict_mode: Literal["fail", "append", "replace"] = "append"
    shuffle_partitions: int | None = None
    ui_enabled: bool = True
    driver_memory: str | None = None
    executor_memory: str | None = None
    executor_cores: int | None = None
    jars_dir: str | None = None
    conf: Mapping[str, ConfScalar] = field(default_factory=dict)
    s3a_buckets: Mapping[str, S3ABucketConfig] = field(default_factory=dict)


@dataclass(frozen=True)
class CloudWatchConfig:
    enabled: bool = False
    log_group: str | None = None
    stream_prefix: str = "spark"
    retention_days: int = 30


@dataclass(frozen=True)
class LoggingConfig:
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    stdout: bool = True
    file: str | None = None
    cloudwatch: CloudWatchConfig = field(default_factory=CloudWatchConfig)


@dataclass(frozen=True)
class AlertsConfig:
    slack_webhook: SecretRef | None = None
    timeout_seconds: float = 5.0


@dataclass(frozen=True)
class InstanceGroupConfig:
    role: Literal["MASTER", "CORE", "TASK"]
    instance_type: str = "m5.xlarge"
    count: int = 1
    market: Literal["ON_DEMAND", "SPOT"] = "ON_DEMAND"


@dataclass(frozen=True)
class EmrConfig:
    release_label: str = "emr-7.11.0"
    log_uri: str | None = None
    service_role: str = "EMR_DefaultRole"
    job_flow_role: str = "EMR_EC2_DefaultRole"
    execution_role_arn: str | None = None
    action_on_failure: Literal["CONTINUE", "CANCEL_AND_WAIT", "TERMINATE_CLUSTER"] = "CONTINUE"
    deploy_mode: Literal["cluster", "client"] = "cluster"
    subnet_id: str | None = None
    instance_groups: tuple[InstanceGroupConfig, ...] = (
        InstanceGroupConfig("MASTER", "m5.xlarge", 1),
        InstanceGroupConfig("CORE", "m5.xlarge", 2),
    )
    serverless_application_id: str | None = None
    serverless_execution_role_arn: str | None = None
    spark_conf: Mapping[str, ConfScalar] = field(default_factory=dict)


@dataclass(frozen=True)
class GlueConfig:
    role: str | None = None
    glue_version: str = "5.1"
    worker_type: str = "G.1X"
    number_of_workers: int = 2
    timeout_minutes: int = 120
    max_retries: int = 0
    job_name_prefix: str = "datalake-etl"


@dataclass(frozen=True)
class DeployConfig:
    # s3://bucket/prefix where `upload` puts <project>/<version>/...
    artifacts_uri: str | None = None
    emr: EmrConfig = field(default_factory=EmrConfig)
    glue: GlueConfig = field(default_factory=GlueConfig)


@dataclass(frozen=True)
class AppConfig:
    env: str
    project: str
    aws: AwsConfig
    spark: SparkConfig
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    deploy: DeployConfig = field(default_factory=DeployConfig)
    job_name: str | None = None
    # The job's own settings, typed by the job's schema dataclass (None when no job is given).
    job: Any = None
    sources: tuple[str, ...] = ()


# Sections a job may overlay on the global ones, from its `jobs.<name>` block.
_OVERLAY_SECTIONS = ("aws", "spark", "logging", "alerts")
_SECRET_KEY = re.compile(
    r"(password|passwd|secret|token|api[_.-]?key|access[_.-]?key|private[_.-]?key|"
    r"credential|webhook|authorization)",
    re.IGNORECASE,
)
_VAR = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

# --------------------------------------------------------------------------- reading files


class _Provenance:
    """Remembers which file (or override) set each dotted key, and which values are text."""

    def __init__(self) -> None:
        self.source: dict[tuple[str, ...], str] = {}
        self.textual: set[tuple[str, ...]] = set()

    def of(self, path: tuple[str, ...]) -> str | None:
        for length in range(len(path), 0, -1):
            if path[:length] in self.source:
                return self.source[path[:length]]
        return None


def _dotted(path: Iterable[str]) -> str:
    return ".".join(path)


def _interpolate(
    value: Any, path: tuple[str, ...], source: str, environ: Mapping[str, str], prov: _Provenance
) -> Any:
    if isinstance(value, dict):
        return {
            key: _interpolate(item, (*path, str(key)), source, environ, prov)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_interpolate(item, path, source, environ, prov) for item in value]
    if not isinstance(value, str) or "$" not in value:
        return value

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        name, default = match.group(1), match.group(2)
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        raise ConfigError(
            f"environment variable {name} is not set and has no default", _dotted(path), source
        )

    result = _VAR.sub(substitute, value)
    if result != value:
        prov.textual.add(path)
    return result


def _read_text(conf_dir: str, name: str) -> str | None:
    """The text of `name` in the config folder, or None when it does not exist there."""
    if conf_dir.startswith("s3://") or conf_dir.startswith("s3a://"):
        import boto3
        from botocore.exceptions import ClientError

        bucket, _, prefix = conf_dir.split("://", 1)[1].partition("/")
        key = f"{prefix.rstrip('/')}/{name}" if prefix else name
        try:
            body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"]
            return body.read().decode("utf-8")
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise ConfigError(f"cannot read s3://{bucket}/{key}: {error}") from error
    if conf_dir.startswith("package:"):
        resource = resources.files("lib").joinpath("_conf", name)
        return resource.read_text(encoding="utf-8") if resource.is_file() else None
    directory = Path(conf_dir.removeprefix("file://"))
    path = directory / name
    return path.read_text(encoding="utf-8") if path.is_file() else None


def default_conf_dir(environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    if environ.get(CONF_DIR_ENV):
        return environ[CONF_DIR_ENV]
    checkout_conf = Path(__file__).resolve().parents[1] / "conf"
    if (checkout_conf / "base.yaml").is_file():
        return str(checkout_conf)
    return "package:lib/_conf"


def _load_layer(
    conf_dir: str, name: str, environ: Mapping[str, str], prov: _Provenance, required: bool
) -> dict[str, Any]:
    label = f"{conf_dir.rstrip('/')}/{name}"
    text = _read_text(conf_dir, name)
    if text is None:
        if required:
            raise ConfigError(f"config file not found: {label}")
        return {}
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"invalid YAML: {error}", source=label) from error
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError("the top level must be a mapping", source=label)
    return _interpolate(data, (), label, environ, prov) | {"__source__": label}


def _merge(
    base: dict[str, Any], overlay: dict[str, Any], source: str, prov: _Provenance, path=()
) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overlay.items():
        key_path = (*path, str(key))
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value, source, prov, key_path)
        else:
            merged[key] = value
        _record(value, key_path, source, prov)
    return merged


def _record(value: Any, path: tuple[str, ...], source: str, prov: _Provenance) -> None:
    prov.source[path] = source
    if isinstance(value, dict):
        for key, item in value.items():
            _record(item, (*path, str(key)), source, prov)


# --------------------------------------------------------------------------- typing


_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _from_text(tp: Any, value: str) -> Any:
    if tp is bool:
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(value)
    if tp is int:
        return int(value)
    if tp is float:
        return float(value)
    return value


def _coerce(tp: Any, value: Any, path: tuple[str, ...], prov: _Provenance) -> Any:
    key, source = _dotted(path), prov.of(path)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)

    if origin in (types.UnionType, typing.Union):
        textual_null = path in prov.textual and isinstance(value, str) and value in ("", "null")
        if value is None or textual_null:
            if type(None) in args:
                return None
            raise ConfigError("a value is required", key, source)
        errors = []
        candidates = [arg for arg in args if arg is not type(None)]
        # try the member whose Python type the value already has first
        candidates.sort(key=lambda arg: not (isinstance(arg, type) and type(value) is arg))
        for candidate in candidates:
            try:
                return _coerce(candidate, value, path, prov)
            except SecretInConfigError:
                raise
            except ConfigError as error:
                errors.append(error)
        if len(errors) == 1:
            raise errors[0]
        wanted = " or ".join(_type_name(arg) for arg in args if arg is not type(None))
        raise ConfigError(f"expected {wanted}, got {type(value).__name__} {value!r}", key, source)
    if value is None:
        raise ConfigError("a value is required, got null", key, source)
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"expected one of {list(args)}, got {value!r}", key, source)
        return value
    if dataclasses.is_dataclass(tp):
        if tp is SecretRef and isinstance(value, str):
            raise SecretInConfigError(key, source)
        if not isinstance(value, dict):
            raise ConfigError(
                f"expected a mapping for {tp.__name__}, got {type(value).__name__}", key, source
            )
        return _build(tp, value, path, prov)
    if origin in (Mapping, dict, typing.Mapping):
        if not isinstance(value, dict):
            raise ConfigError(f"expected a mapping, got {type(value).__name__}", key, source)
        value_type = args[1] if len(args) == 2 else Any
        return types.MappingProxyType(
            {
                str(item_key): _coerce(value_type, item, (*path, str(item_key)), prov)
                for item_key, item in value.items()
            }
        )
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"expected a list, got {type(value).__name__}", key, source)
        return tuple(_coerce(args[0], item, path, prov) for item in value)
    if tp is Any:
        return value
    if tp in (str, int, float, bool):
        if isinstance(value, str) and tp is not str and path in prov.textual:
            try:
                return _from_text(tp, value)
            except ValueError:
                raise ConfigError(
                    f"expected {tp.__name__}, got text {value!r}", key, source
                ) from None
        if tp is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, tp) and not (tp is int and isinstance(value, bool)):
            if tp is str and _SECRET_KEY.search(path[-1]) and not _is_reference_key(path):
                raise SecretInConfigError(key, source)
            return value
        raise ConfigError(
            f"expected {tp.__name__}, got {type(value).__name__} {value!r}", key, source
        )
    raise ConfigError(f"unsupported config type {tp!r}", key, source)


def _is_reference_key(path: tuple[str, ...]) -> bool:
    """Keys whose value *names* where a secret is, rather than holding it."""
    return path[-1] in ("secret_id", "env", "key") or path[-1].endswith(
        ("_secret_id", "_env", "_provider", ".provider", "_header", "_field", "_param")
    )


def _build(cls: type, data: Mapping[str, Any], path: tuple[str, ...], prov: _Provenance) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = [key for key in data if key not in fields and key != "__source__"]
    if unknown:
        bad = str(unknown[0])
        close = difflib.get_close_matches(bad, fields, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; known keys: {sorted(fields)}"
        raise ConfigError(f"unknown key{hint}", _dotted((*path, bad)), prov.of((*path, bad)))
    kwargs = {}
    for name, spec in fields.items():
        if name in data:
            kwargs[name] = _coerce(hints[name], data[name], (*path, name), prov)
        elif spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
            raise ConfigError(
                "missing required value",
                _dotted((*path, name)),
                prov.of(path) or ", ".join(sorted(set(prov.source.values()))) or None,
            )
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as error:
        raise ConfigError(str(error), _dotted(path) or None, prov.of(path)) from error


# --------------------------------------------------------------------------- overrides


def parse_override(text: str) -> tuple[str, str]:
    """``"spark.conf.spark.sql.shuffle.partitions=4"`` -> (dotted key, text value)."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"an override is KEY=VALUE, got {text!r}", source="--set")
    return key.strip(), value


def _override_path(cls: Any, parts: list[str]) -> tuple[str, ...]:
    """Split a dotted override key along the schema: a mapping field takes the rest as one key."""
    path: list[str] = []
    tp: Any = cls
    index = 0
    while index < len(parts):
        tp = _strip_optional(tp)
        if dataclasses.is_dataclass(tp):
            hints = typing.get_type_hints(tp)
            name = parts[index]
            if name not in hints:
                raise ConfigError("unknown key", _dotted([*path, name]), "--set")
            path.append(name)
            tp = hints[name]
            index += 1
        elif typing.get_origin(tp) in (Mapping, dict):
            value_type = typing.get_args(tp)[1]
            if dataclasses.is_dataclass(_strip_optional(value_type)):
                path.append(parts[index])
                tp = value_type
                index += 1
            else:
                path.append(".".join(parts[index:]))
                return tuple(path)
        else:
            raise ConfigError("cannot set inside a scalar", _dotted(parts), "--set")
    return tuple(path)


def _strip_optional(tp: Any) -> Any:
    if typing.get_origin(tp) in (types.UnionType, typing.Union):
        non_null = [arg for arg in typing.get_args(tp) if arg is not type(None)]
        if len(non_null) == 1:
            return non_null[0]
    return tp


def _set_path(tree: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = tree
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[path[-1]] = value


# --------------------------------------------------------------------------- entry point


def load_config(
    env: str,
    job: str | None = None,
    job_schema: type | None = None,
    overrides: Iterable[str] = (),
    conf_dir: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> AppConfig:
    """Read, merge, interpolate and type the configuration for one environment (and job).

    `job_schema` is the job's frozen dataclass for its own keys in ``jobs.<job>``; without it
    the job section may only overlay the global sections.
    """
    if env not in ENVIRONMENTS:
        raise ConfigError(f"unknown environment {env!r}; expected one of {list(ENVIRONMENTS)}")
    environ = os.environ if environ is None else environ
    directory = str(conf_dir) if conf_dir is not None else default_conf_dir(environ)
    prov = _Provenance()

    layers = [
        _load_layer(directory, "base.yaml", environ, prov, required=True),
        _load_layer(directory, f"{env}.yaml", environ, prov, required=False),
    ]
    tree: dict[str, Any] = {}
    sources = []
    for layer in layers:
        if layer:
            source = layer.pop("__source__")
            sources.append(source)
            tree = _merge(tree, layer, source, prov)

    jobs = tree.pop("jobs", None) or {}
    if not isinstance(jobs, dict):
        raise ConfigError("expected a mapping of job names", "jobs", prov.of(("jobs",)))
    job_settings: dict[str, Any] = {}
    if job is not None:
        section = jobs.get(job) or {}
        if not isinstance(section, dict):
            raise ConfigError("expected a mapping", f"jobs.{job}", prov.of(("jobs", job)))
        for key, value in section.items():
            job_source = prov.of(("jobs", job, key)) or "config"
            if key in _OVERLAY_SECTIONS:
                tree = _merge(tree, {key: value}, job_source, prov)
            else:
                job_settings[key] = value
                _record(value, ("job", key), job_source, prov)

    for text in overrides:
        dotted, value = parse_override(text)
        parts = dotted.split(".")
        if parts[0] == "job":
            if job_schema is None:
                raise ConfigError("this job takes no job settings", dotted, "--set")
            path = ("job", *_override_path(job_schema, parts[1:]))
            _set_path(job_settings, path[1:], value)
        else:
            path = _override_path(AppConfig, parts)
            _set_path(tree, path, value)
        prov.source[path] = "--set"
        prov.textual.add(path)

    tree.setdefault("env", env)
    if tree["env"] != env:
        raise ConfigError(
            f"env is {tree['env']!r} but {env!r} was loaded", "env", prov.of(("env",))
        )
    tree["job_name"] = job
    prov.source[("job_name",)] = "arguments"
    if job_schema is not None:
        tree["job"] = _build(job_schema, job_settings, ("job",), prov)
    elif job_settings:
        bad = next(iter(job_settings))
        raise ConfigError(
            "unknown key (this job declares no settings of its own)",
            f"jobs.{job}.{bad}",
            prov.of(("job", bad)),
        )
    config = _build(AppConfig, tree, (), prov)
    return dataclasses.replace(config, sources=tuple(sources))
