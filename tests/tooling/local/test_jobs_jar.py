"""The jobs' jar: built from each job's Java sources, the same bytes for the same sources,
rebuilt only when they change, and one class of a name on the class path."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from lib.spark.jars import (
    JOBS_JAR_SOURCES_DIGEST,
    jar_entry,
    jobs_jar_is_current,
    jobs_java_sources,
    jobs_sources_digest,
)
from tooling.local.jobs_jar import JobsJarError, build

ROOT = Path(__file__).resolve().parents[3]


def java(root: Path, job: str, body: str) -> None:
    folder = root / "jobs" / job / "java"
    folder.mkdir(parents=True, exist_ok=True)
    method = f"public static String text() {{ {body} }}"
    source = f"package demo;\npublic final class Greeting {{ {method} }}\n"
    (folder / "Greeting.java").write_text(source)


def test_the_projects_jar_holds_the_xetra_line_parser(tmp_path):
    out = tmp_path / "jobs.jar"
    assert build(ROOT, out) is True
    with zipfile.ZipFile(out) as archive:
        assert "datalake/jobs/xetra/TradeLineParser.class" in archive.namelist()
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_DEFLATED}
    digest = jobs_sources_digest(ROOT, jobs_java_sources(ROOT))
    assert jar_entry(out, JOBS_JAR_SOURCES_DIGEST) == digest
    assert build(ROOT, out) is False  # up to date: not rebuilt
    assert jobs_jar_is_current(out, ROOT)  # a session takes it


def test_same_sources_same_bytes_and_a_change_rebuilds(tmp_path):
    java(tmp_path, "a", 'return "hello";')
    first, second = tmp_path / "1.jar", tmp_path / "2.jar"
    build(tmp_path, first)
    build(tmp_path, second)
    assert first.read_bytes() == second.read_bytes()
    java(tmp_path, "a", 'return "hello again";')
    assert build(tmp_path, first) is True
    assert first.read_bytes() != second.read_bytes()


def test_a_copied_job_shares_its_class_and_a_different_one_is_refused(tmp_path):
    java(tmp_path, "a", 'return "hello";')
    java(tmp_path, "a_copy", 'return "hello";')
    build(tmp_path, tmp_path / "ok.jar")
    with zipfile.ZipFile(tmp_path / "ok.jar") as archive:
        assert archive.namelist().count("demo/Greeting.class") == 1
    java(tmp_path, "b", 'return "other";')
    with pytest.raises(JobsJarError, match="jobs/a_copy and jobs/b define demo/Greeting"):
        build(tmp_path, tmp_path / "bad.jar")
    assert not (tmp_path / "bad.jar").exists()


def test_a_compile_error_says_what_javac_said(tmp_path):
    java(tmp_path, "a", "return 1;")
    with pytest.raises(JobsJarError, match=r"(?s)javac failed.*incompatible types"):
        build(tmp_path, tmp_path / "x.jar")


def test_a_jar_of_older_sources_is_not_current_and_javac_is_needed_only_to_build(
    tmp_path, monkeypatch
):
    java(tmp_path, "a", 'return "hello";')
    build(tmp_path, tmp_path / "jobs.jar")
    assert jobs_jar_is_current(tmp_path / "jobs.jar", tmp_path)
    monkeypatch.setenv("PATH", "/nonexistent")  # a JRE-only machine: no javac
    assert build(tmp_path, tmp_path / "jobs.jar") is False  # built elsewhere, up to date
    java(tmp_path, "a", 'return "changed";')  # edited, not built again
    assert not jobs_jar_is_current(tmp_path / "jobs.jar", tmp_path)
    with pytest.raises(JobsJarError, match="javac is not on PATH"):
        build(tmp_path, tmp_path / "jobs.jar")


def test_jvm_options_in_the_environment_do_not_change_the_jar(tmp_path, monkeypatch):
    java(tmp_path, "a", 'return "hello";')
    build(tmp_path, tmp_path / "plain.jar")
    monkeypatch.setenv("_JAVA_OPTIONS", "-Xmx512m")
    assert build(tmp_path, tmp_path / "plain.jar") is False
    build(tmp_path, tmp_path / "with.jar")
    assert (tmp_path / "with.jar").read_bytes() == (tmp_path / "plain.jar").read_bytes()
