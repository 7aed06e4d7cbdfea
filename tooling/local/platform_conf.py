"""The Spark settings a managed platform (EMR, Glue) gives every application, emulated.

On AWS the platform puts its S3 filesystem (EMRFS, Glue's) and its jars on every classpath;
here S3A on the moto server stands in for it, from the project's own S3A settings
(lib.spark.factory's local profile), so the jobs' `cloud` profile finds s3:// working as on
the platform. Delta's jars join only when the platform is asked for Delta.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from lib.spark import jars as jar_registry
from lib.spark.factory import SparkFactory

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
# the platform's credentials: from the environment (EMR's instance profile, Glue's role), never
# written into a conf file or a command line
ENVIRONMENT_CREDENTIALS = "com.amazonaws.auth.EnvironmentVariableCredentialsProvider"


class NotLocal(RuntimeError):
    pass


def require_local_endpoint(
    environ: Mapping[str, str] | None = None, clients: Iterable[Any] = ()
) -> None:
    """The emulations talk to a local emulator only, never to AWS with real credentials: the
    endpoint variables botocore reads (AWS_ENDPOINT_URL and any per-service
    AWS_ENDPOINT_URL_<SERVICE>) and the clients handed in must all be local."""
    environ = os.environ if environ is None else environ
    url = environ.get("AWS_ENDPOINT_URL", "")
    found = {"AWS_ENDPOINT_URL": url}
    found.update({k: v for k, v in environ.items() if k.startswith("AWS_ENDPOINT_URL_")})
    found.update({f"{type(c).__name__} client": c.meta.endpoint_url for c in clients})
    remote = {name: value for name, value in found.items() if not _is_local(value)}
    if environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() == "true":
        remote["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true"
    if remote:
        described = ", ".join(f"{name}={value or '(unset)'}" for name, value in remote.items())
        raise NotLocal(
            f"{described}: the platform emulations run against a local emulator (e.g. "
            "python -m tooling.local.emulator), never against AWS"
        )


def _is_local(url: str) -> bool:
    return urlsplit(url).hostname in LOCAL_HOSTS


def stop_on_sigterm() -> None:
    """SIGTERM ends the process through SystemExit, so `with` blocks stop their clusters
    (only the main thread may set a handler; elsewhere the caller's own handling stays)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def platform_spark_conf(
    master: str | None, delta: bool, environ: Mapping[str, str]
) -> dict[str, str]:
    factory = SparkFactory(master=master, profile="local", committer="platform",
                           ui_enabled=False, environ=environ)  # fmt: skip
    conf = {key: value for key, value in factory.session_conf("platform").items()
            if (key.startswith("spark.hadoop.") or key == "spark.master")
            and not key.endswith((".access.key", ".secret.key"))}  # fmt: skip
    conf["spark.hadoop.fs.s3a.aws.credentials.provider"] = ENVIRONMENT_CREDENTIALS
    needed = jar_registry.S3A_JARS + (jar_registry.DELTA_JARS if delta else ())
    jars = jar_registry.jar_paths(jar_registry.default_jars_dir(environ), needed)
    classpath = ":".join(str(path) for path in jars)
    conf["spark.driver.extraClassPath"] = classpath
    conf["spark.executor.extraClassPath"] = classpath
    conf["spark.ui.enabled"] = "false"
    return conf
