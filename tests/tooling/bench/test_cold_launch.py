"""How the bench starts a cold run: the local profile's launch options, as a scheduler would."""

from __future__ import annotations

import os

import pytest

from lib.spark import class_data
from lib.spark.factory import collector_in_environment
from tooling.bench.xetra import run_factory
from tooling.local.spark_submit import with_java_options


def test_a_cold_run_launches_with_the_local_profiles_driver_options(tmp_path, monkeypatch):
    if collector_in_environment(os.environ):
        pytest.skip("this environment picks the JVM's collector itself")
    archive = tmp_path / "driver-classes.jsa"
    archive.write_bytes(b"an archive")
    class_data.seal(archive)
    monkeypatch.setenv("ETL_CLASS_DATA_ARCHIVE", str(archive))
    source, target = tmp_path.as_uri(), (tmp_path / "out").as_uri()
    launch = run_factory(source, target).launch_options()
    java = f"-XX:+UseParallelGC {' '.join(class_data.jvm_options(archive))}"
    assert launch == ["--driver-memory", "2g", "--driver-java-options", java]
    # the bench's runs with and without an archive of their own leave the profile's out
    launch = run_factory(source, target, class_data=False).launch_options()
    assert launch == ["--driver-memory", "2g", "--driver-java-options", "-XX:+UseParallelGC"]


def test_extra_java_options_go_after_the_profiles():
    launch = ["--driver-memory", "2g", "--driver-java-options", "-XX:+UseParallelGC"]
    assert with_java_options(launch, "-XX:SharedArchiveFile=a.jsa") == [
        "--driver-memory", "2g",
        "--driver-java-options", "-XX:+UseParallelGC -XX:SharedArchiveFile=a.jsa",
    ]  # fmt: skip
    assert with_java_options(launch, "") == launch
    assert with_java_options(["--driver-memory", "1g"], "-Xss4m") == [
        "--driver-memory", "1g", "--driver-java-options", "-Xss4m",
    ]  # fmt: skip


def test_a_collector_in_the_extra_options_replaces_the_profiles():
    launch = ["--driver-memory", "2g", "--driver-java-options", "-Xss4m -XX:+UseParallelGC"]
    assert with_java_options(launch, "-XX:+UseSerialGC") == [
        "--driver-memory", "2g", "--driver-java-options", "-Xss4m -XX:+UseSerialGC",
    ]  # fmt: skip


def test_every_other_launch_option_is_kept_as_given():
    launch = ["--conf", "a=1", "--conf", "b=2", "--driver-memory", "2g"]
    assert with_java_options(launch, "-Xss4m") == [*launch, "--driver-java-options", "-Xss4m"]
