"""An entry script started by spark-submit as a scheduler starts it: the local profile's launch
options (driver memory, JVM options) and the jars the run needs on the command line. Used by
the bench's cold runs and by the class-data archive's training run."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from lib.spark.factory import COLLECTOR_OPTION, JVM_OPTION_VARIABLES, SparkFactory
from lib.spark.jars import repository_root


def with_java_options(launch: list[str], java_options: str) -> list[str]:
    """`launch` (spark-submit options, in pairs) with `java_options` after its driver JVM
    options; a collector in `java_options` replaces the profile's (the JVM refuses two)."""
    if not java_options:
        return launch
    result: list[str] = []
    given = False
    for option, value in zip(launch[::2], launch[1::2], strict=True):
        if option != "--driver-java-options":
            result += [option, value]
            continue
        kept = COLLECTOR_OPTION.sub("", value) if COLLECTOR_OPTION.search(java_options) else value
        result += [option, " ".join([*kept.split(), java_options])]
        given = True
    return result if given else [*result, "--driver-java-options", java_options]


def spark_submit(
    factory: SparkFactory,
    arguments: Sequence[str],
    master: str,
    java_options: str = "",
    timeout: float | None = None,
    jvm_environment: bool = True,
) -> subprocess.CompletedProcess[str]:
    """spark-submit with the factory's launch options and jars, then `arguments` (an entry
    script and its arguments, or ``--version``), in a fresh JVM: the project on PYTHONPATH, this
    Python for the workers; `java_options` go after the factory's JVM options. Without
    `jvm_environment` the variables every JVM or spark-submit reads options from are left out
    (lib.spark.factory.JVM_OPTION_VARIABLES)."""
    root = repository_root() or Path.cwd()
    executable = Path(sys.executable).parent / "spark-submit"
    dropped = {"SPARK_HOME", *(() if jvm_environment else JVM_OPTION_VARIABLES)}
    env = {key: value for key, value in os.environ.items() if key not in dropped}
    env |= {"PYSPARK_PYTHON": sys.executable, "PYTHONPATH": str(root), "SPARK_MASTER": master}
    launch = with_java_options(factory.launch_options(), java_options)
    command = [str(executable), "--master", master, *launch, "--conf", "spark.ui.enabled=false"]
    jars = factory.required_jar_paths()
    if jars:
        command += ["--jars", ",".join(str(path) for path in jars)]
    return subprocess.run(
        [*command, *arguments], capture_output=True, text=True, env=env, timeout=timeout,
        check=False,
    )  # fmt: skip
