"""The local driver JVM's class-data-sharing archive: `make setup` writes it, the local profile
maps it (``spark.class_data_archive: auto``; lib.spark.class_data).

A training run, the Xetra entry over one synthetic day of local files through spark-submit,
writes a dynamic archive of the classes its JVM loaded when it exits (Java 17's
``-XX:ArchiveClassesAtExit``). The archive is checked to map in a JVM started as the local
profile starts one (``-Xshare:on`` makes the JVM fail when it does not fit), moved into place
and sealed (the profile maps only a sealed archive). It fits one Java build and one Spark class
path: after an upgrade the JVM ignores it, and `make setup` writes a new one.

    python -m tooling.local.class_data [--force] [--set spark.class_data_archive=PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from lib.spark import class_data
from lib.spark.factory import SparkFactory
from lib.spark.jars import repository_root
from tooling.generators.xetra import day_files
from tooling.local.spark_submit import spark_submit

MASTER = "local[2]"
TRAINING_DAY = date(2024, 1, 5)
CHECK_SECONDS = 120.0


class ClassDataError(RuntimeError):
    """The archive could not be written or does not map (its message says why)."""


def usable(factory: SparkFactory, archive: Path) -> bool:
    """Whether a JVM launched with the factory's options maps `archive` (its Java build and
    Spark class path fit). JVM options from the environment are left out of the check (an
    ``_JAVA_OPTIONS=-Xshare:off`` would let any file pass), and a JVM that dies on the file
    leaves its error report in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="class-data-check-") as folder:
        check = " ".join(["-Xshare:on", *class_data.jvm_options(archive),
                          f"-XX:ErrorFile={folder}/hs_err_pid%p.log"])  # fmt: skip
        try:
            result = spark_submit(_without_archive(factory), ["--version"], MASTER, check,
                                  timeout=CHECK_SECONDS, jvm_environment=False)  # fmt: skip
        except subprocess.TimeoutExpired:
            return False
    return result.returncode == 0


def build(factory: SparkFactory, destination: Path, timeout: float = 600) -> float:
    """Write and seal `destination` from a training run; returns the run's seconds. Raises
    ClassDataError when the path cannot be given to a JVM, the folder is not writable, or the
    run fails or times out, or its archive does not map."""
    root = repository_root()
    if root is None:
        raise ClassDataError("the training run needs the repository (jobs/xetra/entry.py)")
    if not class_data.usable_path(destination):
        raise ClassDataError(
            f"{destination}: a JVM option takes a path in printable ASCII without white space "
            "or quotes (set ETL_CLASS_DATA_ARCHIVE)"
        )
    destination.parent.mkdir(parents=True, exist_ok=True)
    if not os.access(destination.parent, os.W_OK):
        raise ClassDataError(f"{destination.parent} is not writable")
    recorded = destination.with_name(f".{destination.name}.{os.getpid()}.tmp")
    with tempfile.TemporaryDirectory(prefix="class-data-") as folder:
        source, target = Path(folder) / "pds", Path(folder) / "lake"
        for key, text in day_files(TRAINING_DAY, count=20, trades_per_hour=30):
            (source / key).parent.mkdir(parents=True, exist_ok=True)
            (source / key).write_text(text)
        arguments = [
            str(root / "jobs/xetra/entry.py"), "--env", "local",
            "--source", source.as_uri(), "--target", target.as_uri(),
            "--start", TRAINING_DAY.isoformat(), "--end", TRAINING_DAY.isoformat(),
            "--set", "logging.stdout=false", "--set", "logging.log_path=",
        ]  # fmt: skip
        training = _without_archive(factory)  # narrowed to local files: no S3A, no jars
        recording = f"-XX:ArchiveClassesAtExit={recorded} {class_data.LOG_OFF}"
        started = time.monotonic()
        try:
            result = spark_submit(training, arguments, MASTER, recording, timeout=timeout)
            seconds = time.monotonic() - started
            if result.returncode != 0:
                raise ClassDataError(f"the training run exited {result.returncode}: "
                                     f"{result.stderr[-2000:]}")  # fmt: skip
            if not recorded.is_file():
                raise ClassDataError("the training run's JVM wrote no archive")
            if not usable(factory, recorded):
                raise ClassDataError("the archive written does not map in the local profile's JVM")
            recorded.replace(destination)
            class_data.seal(destination)
        except subprocess.TimeoutExpired as error:
            raise ClassDataError(f"the training run took more than {timeout:.0f} s") from error
        finally:
            with contextlib.suppress(OSError):  # the error that matters is the one raised above
                recorded.unlink(missing_ok=True)
    return seconds


def up_to_date(factory: SparkFactory, archive: Path) -> bool:
    """Sealed and unchanged since, and it still maps (a Java or pyspark upgrade since the seal
    makes the JVM ignore it). A JVM is started only on a sealed archive."""
    return class_data.sealed(archive) and usable(factory, archive)


def _without_archive(factory: SparkFactory) -> SparkFactory:
    """`factory` narrowed to a run over local files (no S3A, no jars), without its own
    archive option (a check or a recording sets it)."""
    copy = factory.for_run([])
    copy.class_data_archive = None
    return copy


def main(argv: list[str] | None = None) -> int:
    from lib.config import load_config

    parser = argparse.ArgumentParser(prog="python -m tooling.local.class_data",
                                     description=__doc__.split("\n\n")[0])  # fmt: skip
    parser.add_argument("--force", action="store_true", help="write it even if one maps")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE",
        help="a config override, e.g. spark.class_data_archive= (none)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    factory = SparkFactory.from_config(load_config("local", overrides=args.set))
    destination = factory.class_data_archive
    if destination is None:
        print("class-data archive: off (spark.class_data_archive)")
        return 0
    if not args.force and up_to_date(factory, destination):
        print(f"class-data archive: {destination} (up to date)")
        return 0
    try:
        seconds = build(factory, destination)
    except (ClassDataError, OSError) as error:
        # JVMs start without it, only slower: setup goes on, and says so
        print(f"class-data archive: not written ({error}); JVMs start without it",
              file=sys.stderr)  # fmt: skip
        return 0
    print(f"class-data archive: {destination} written by a {seconds:.1f} s training run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
