"""What the platform emulations (EMR, Glue) share: the Spark settings a managed platform gives
every application, the guard that keeps them local, their S3 fetches, throwaway interpreters
and command line.

On AWS the platform puts its S3 filesystem (EMRFS, Glue's) and its jars on every classpath;
here S3A on the moto server stands in for it, from the project's own S3A settings
(lib.spark.factory's local profile), so the jobs' `cloud` profile finds s3:// working as on
the platform. Delta's jars join only when the platform is asked for Delta.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
import venv
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lib.aws.s3 import parse_s3_uri
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


class PlatformEmulation:
    """The base of both emulations: a local-only environment (no PYTHONPATH of the caller's),
    the S3 client artifacts are fetched with, a working folder."""

    def __init__(
        self,
        s3: Any,
        workdir: str | os.PathLike[str],
        environ: Mapping[str, str] | None,
        clients: Iterable[Any],
    ) -> None:
        self.environ = dict(os.environ if environ is None else environ)
        require_local_endpoint(self.environ, (*clients, s3))
        self.environ.pop("PYTHONPATH", None)
        self.s3 = s3
        self.workdir = Path(workdir)

    def fetch(self, uri: str, target: Path) -> Path:
        """Download the s3:// object `uri` to `target` (its folder is created)."""
        bucket, key = parse_s3_uri(uri)
        target.parent.mkdir(parents=True, exist_ok=True)
        self.s3.download_file(bucket, key, str(target))
        return target


def throwaway_python(folder: Path) -> Path:
    """The interpreter of a virtualenv in `folder` (created, with pip, the first time)."""
    if not folder.exists():
        venv.EnvBuilder(with_pip=True, symlinks=True).create(folder)
    return folder / "bin" / "python"


def emulation_arguments(
    parser: argparse.ArgumentParser, argv: list[str] | None, prefix: str
) -> tuple[argparse.Namespace, Path]:
    """An emulation's command line: its arguments plus --workdir, refused (exit 2) unless the
    endpoint is local; SIGTERM then stops what it starts. Returns the arguments and the folder."""
    parser.add_argument("--workdir", help="default: a new temporary folder")
    args = parser.parse_args(argv)
    try:
        require_local_endpoint()
    except NotLocal as error:
        parser.exit(2, f"error: {error}\n")
    stop_on_sigterm()
    return args, Path(args.workdir or tempfile.mkdtemp(prefix=prefix))
