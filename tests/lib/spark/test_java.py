"""lib.spark.java: Java detection and the message that says what to install."""

from __future__ import annotations

import os
import stat

import pytest

from lib.spark.java import JavaError, check_java, parse_java_version


@pytest.mark.parametrize(
    ("output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('java version "1.8.0_392"', 8),
        ('openjdk version "21" 2023-09-19', 21),
        ('openjdk version "11.0.2" 2019-01-15 LTS', 11),
    ],
)
def test_parse_java_version(output, major):
    assert parse_java_version(output) == major


def fake_java_home(tmp_path, version_line):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    java = bin_dir / "java"
    java.write_text(f"#!/bin/sh\necho '{version_line}' >&2\n")
    java.chmod(java.stat().st_mode | stat.S_IEXEC)
    return {"JAVA_HOME": str(tmp_path), "PATH": os.environ.get("PATH", "")}


def test_old_java_is_refused_with_what_to_install(tmp_path):
    environ = fake_java_home(tmp_path, 'openjdk version "11.0.2"')
    with pytest.raises(JavaError, match=r"Java 11; Spark 3\.5 here needs 17\+.*openjdk-17"):
        check_java(environ=environ)


def test_missing_java_is_refused_with_what_to_install(tmp_path):
    with pytest.raises(JavaError, match="no `java` found on PATH: install a Java 17"):
        check_java(environ={"PATH": str(tmp_path)})


def test_java_17_from_java_home_is_accepted(tmp_path):
    assert check_java(environ=fake_java_home(tmp_path, 'openjdk version "17.0.1"')) == 17


def test_this_machine_has_java_17_or_later():
    assert check_java() >= 17
