"""The Spark settings a managed platform (EMR, Glue) gives every application, emulated.

On AWS the platform puts its S3 filesystem (EMRFS, Glue's) and its jars on every classpath;
here S3A on the moto server stands in for it, from the project's own S3A settings
(lib.spark.factory's local profile), so the jobs' `cloud` profile finds s3:// working as on
the platform. Delta's jars join only when the platform is asked for Delta.
"""

from __future__ import annotations

from collections.abc import Mapping

from lib.spark import jars as jar_registry
from lib.spark.factory import SparkFactory


def platform_spark_conf(
    master: str | None, delta: bool, environ: Mapping[str, str]
) -> dict[str, str]:
    factory = SparkFactory(master=master, profile="local", committer="platform",
                           ui_enabled=False, environ=environ)  # fmt: skip
    conf = {key: value for key, value in factory.session_conf("platform").items()
            if key.startswith("spark.hadoop.") or key == "spark.master"}  # fmt: skip
    needed = jar_registry.S3A_JARS + (jar_registry.DELTA_JARS if delta else ())
    jars = jar_registry.jar_paths(jar_registry.default_jars_dir(environ), needed)
    classpath = ":".join(str(path) for path in jars)
    conf["spark.driver.extraClassPath"] = classpath
    conf["spark.executor.extraClassPath"] = classpath
    conf["spark.ui.enabled"] = "false"
    return conf
