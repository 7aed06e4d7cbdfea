"""The local driver JVM's class-data-sharing archive (`make setup`), with real JVMs."""

from __future__ import annotations

import pytest

from lib.config import load_config
from lib.spark import SparkFactory
from tooling.local.class_data import main, usable
from tooling.local.spark_submit import spark_submit


def test_setup_writes_an_archive_the_profiles_jvm_loads_its_classes_from(
    tmp_path, monkeypatch, capsys
):
    archive = tmp_path / "jvm" / "driver-classes.jsa"
    monkeypatch.setenv("ETL_CLASS_DATA_ARCHIVE", str(archive))
    assert main([]) == 0
    assert "written by a" in capsys.readouterr().out
    assert [path.name for path in archive.parent.iterdir()] == [archive.name]  # no temp file
    factory = SparkFactory.from_config(load_config("local"))
    assert factory.class_data_archive == archive
    assert usable(factory, archive)
    # a JVM launched with the profile's options loads Spark's classes from the archive (the
    # dynamic archive is the "top" layer above the JDK's own)
    loaded = tmp_path / "classes.log"
    result = spark_submit(
        factory, ["--version"], "local[1]", f"-Xlog:class+load=info:file={loaded}"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    shared = [line for line in loaded.read_text().splitlines() if "(top)" in line]
    assert any("org.apache.spark.deploy.SparkSubmit " in line for line in shared)
    written = archive.stat().st_mtime_ns
    assert main([]) == 0  # it maps: kept as it is
    assert "up to date" in capsys.readouterr().out
    assert archive.stat().st_mtime_ns == written


@pytest.mark.parametrize("content", [b"", b"not an archive\n", b"\x00" * 4096])
def test_an_archive_that_does_not_fit_is_ignored_quietly(tmp_path, content):
    """A damaged or foreign archive (another Java build, another class path) costs nothing but
    its gain: the JVM starts without it, and says nothing on stdout, which may carry a job's
    output."""
    archive = tmp_path / "driver-classes.jsa"
    archive.write_bytes(content)
    factory = SparkFactory(master="local[1]", class_data_archive=archive, environ={})
    assert f"-XX:SharedArchiveFile={archive}" in factory.launch_options()[-1]
    assert not usable(factory, archive)
    result = spark_submit(factory, ["--version"], "local[1]")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "version 3.5" in result.stderr + result.stdout
    for text in (result.stdout.lower(), result.stderr.lower()):
        assert "cds" not in text
        assert "shared archive" not in text


def test_setup_goes_on_without_an_archive_it_cannot_write(tmp_path, monkeypatch, capsys):
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    monkeypatch.setenv("ETL_CLASS_DATA_ARCHIVE", str(blocked / "driver-classes.jsa"))
    assert main([]) == 0
    assert "not written" in capsys.readouterr().err
    assert blocked.read_text() == ""
