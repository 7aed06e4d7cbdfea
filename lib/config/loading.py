"""Reading the layered YAML files and merging them into one typed AppConfig.

Layers, later wins: ``conf/base.yaml`` -> ``conf/<env>.yaml`` -> the job's own section
(``jobs.<name>`` in either file) -> command-line overrides (``--set spark.conf.x=y``).

``${VAR}`` and ``${VAR:-default}`` are replaced from the environment (the default also when VAR is
empty, as in the shell); ``$${`` is a literal ``${``; any other ``${`` is an error.

The config folder is, in order: the ``conf_dir`` argument (a path, ``file://`` or ``s3://`` URI),
``$ETL_CONF_DIR``, the ``conf/`` folder of the checkout, or the copy packaged inside the library
(``lib/_conf``, present in the wheel and in the ``--py-files`` archive).
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from lib.config.coercion import Provenance, build, dotted, record
from lib.config.errors import ConfigError
from lib.config.overrides import override_path, parse_override, set_path, split_overrides
from lib.config.schema import ENVIRONMENTS, OVERLAY_SECTIONS, TOOLING_SECTIONS, AppConfig

CONF_DIR_ENV = "ETL_CONF_DIR"
# `$${` (a literal), a well-formed reference, or any other `${` (malformed: an error)
# (a default holds no `${`: a nested reference is malformed, not half-read)
_VAR = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-((?:(?!\$\{)[^}])*))?\}|\$\{")


def _interpolate(
    value: Any, path: tuple[str, ...], source: str, environ: Mapping[str, str], prov: Provenance
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
        if name is None:
            raise ConfigError(
                f"malformed reference in {value!r}: write ${{NAME}} or ${{NAME:-default}} "
                "(and $${ for a literal ${)",
                dotted(path),
                source,
            )
        if environ.get(name):
            return environ[name]
        if default is not None:  # like the shell's :-, also when the variable is empty
            return default
        if name in environ:
            return ""
        raise ConfigError(
            f"environment variable {name} is not set and has no default", dotted(path), source
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
            from lib.aws.client import client_config

            # the config's own aws section is not read yet: the library's default time-outs
            s3 = boto3.client("s3", config=client_config(None, max_attempts=3))
            body = s3.get_object(Bucket=bucket, Key=key)["Body"]
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
    checkout_conf = Path(__file__).resolve().parents[2] / "conf"
    if (checkout_conf / "base.yaml").is_file():
        return str(checkout_conf)
    return "package:lib/_conf"


def _load_layer(
    conf_dir: str, name: str, environ: Mapping[str, str], prov: Provenance, required: bool
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
    base: dict[str, Any], overlay: dict[str, Any], source: str, prov: Provenance, path=()
) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overlay.items():
        key_path = (*path, str(key))
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value, source, prov, key_path)
        else:
            merged[key] = value
        record(value, key_path, source, prov)
    return merged


def load_config(
    env: str,
    job: str | None = None,
    job_schema: type | None = None,
    overrides: Iterable[str] = (),
    conf_dir: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    schema: type[AppConfig] = AppConfig,
) -> AppConfig:
    """Read, merge, interpolate and type the configuration for one environment (and job).

    `job_schema` is the job's frozen dataclass for its own keys in ``jobs.<job>``; without it
    the job section may only overlay the global sections. `schema` is AppConfig or a subclass
    that adds top-level sections (tooling's deploy settings); the sections in TOOLING_SECTIONS
    that `schema` does not declare are skipped.
    """
    if env not in ENVIRONMENTS:
        raise ConfigError(f"unknown environment {env!r}; expected one of {list(ENVIRONMENTS)}")
    environ = os.environ if environ is None else environ
    directory = str(conf_dir) if conf_dir is not None else default_conf_dir(environ)
    prov = Provenance()

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

    declared = {item.name for item in dataclasses.fields(schema)}
    for name in TOOLING_SECTIONS:
        if name not in declared:
            tree.pop(name, None)

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
            if key in OVERLAY_SECTIONS:
                tree = _merge(tree, {key: value}, job_source, prov)
            else:
                job_settings[key] = value
                record(value, ("job", key), job_source, prov)

    for text in split_overrides(overrides):
        key, value = parse_override(text)
        parts = key.split(".")
        if parts[0] == "job":
            if job_schema is None:
                raise ConfigError("this job takes no job settings", key, "--set")
            path = ("job", *override_path(job_schema, parts[1:]))
            set_path(job_settings, path[1:], value)
        else:
            path = override_path(schema, parts)
            set_path(tree, path, value)
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
        tree["job"] = build(job_schema, job_settings, ("job",), prov)
    elif job_settings:
        bad = next(iter(job_settings))
        raise ConfigError(
            "unknown key (this job declares no settings of its own)",
            f"jobs.{job}.{bad}",
            prov.of(("job", bad)),
        )
    config = build(schema, tree, (), prov)
    return dataclasses.replace(config, sources=tuple(sources))
