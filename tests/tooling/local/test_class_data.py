"""The local driver JVM's class-data-sharing archive (`make setup`), with real JVMs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from lib.config import load_config
from lib.spark import SparkFactory, class_data
from tooling.local import class_data as tool
from tooling.local.class_data import ClassDataError, build, main, up_to_date, usable
from tooling.local.spark_submit import spark_submit


def classes_from_archive(factory: SparkFactory, folder: Path) -> list[str]:
    """The classes a JVM launched with the factory's options loaded from a dynamic archive
    (the "top" layer above the JDK's own)."""
    loaded = folder / "classes.log"
    logged = f"-Xlog:class+load=info:file={loaded}"
    result = spark_submit(factory, ["--version"], "local[1]", logged)
    assert result.returncode == 0, result.stderr[-2000:]
    return [line for line in loaded.read_text().splitlines() if "(top)" in line]


def test_setup_writes_an_archive_the_profiles_jvm_loads_its_classes_from(
    tmp_path, monkeypatch, capsys
):
    archive = tmp_path / "jvm" / "driver-classes.jsa"
    archive.parent.mkdir()
    archive.write_bytes(b"left by an interrupted setup")  # not sealed: written again
    monkeypatch.setenv("ETL_CLASS_DATA_ARCHIVE", str(archive))
    assert main([]) == 0
    assert "written by a" in capsys.readouterr().out
    assert sorted(path.name for path in archive.parent.iterdir()) == [
        archive.name, class_data.seal_path(archive).name,
    ]  # fmt: skip
    factory = SparkFactory.from_config(load_config("local"))
    assert factory.class_data_archive == archive
    assert up_to_date(factory, archive)
    assert any("org.apache.spark.deploy.SparkSubmit " in line
               for line in classes_from_archive(factory, tmp_path))  # fmt: skip
    written = archive.stat().st_mtime_ns
    assert main([]) == 0  # sealed and it maps: kept as it is
    assert "up to date" in capsys.readouterr().out
    assert archive.stat().st_mtime_ns == written

    # cut short (a full disk, a copy): a JVM given it dies of a bus error at its start, so
    # the profile leaves it out and every run starts
    truncated = tmp_path / "truncated.jsa"
    with archive.open("rb") as whole, truncated.open("wb") as part:
        part.write(whole.read(4096))
    assert not usable(factory, truncated)  # the JVM fails on it (its report kept out of cwd)
    assert not list(Path.cwd().glob("hs_err_pid*.log"))
    shutil.copyfile(truncated, archive)
    assert not up_to_date(factory, archive)
    assert "SharedArchiveFile" not in " ".join(factory.launch_options())
    assert not classes_from_archive(factory, tmp_path)


def foreign_archive(folder: Path) -> Path:
    """A real archive of Spark's classes dumped with another class path (a jar before Spark's)."""
    import pyspark

    jars = Path(pyspark.__file__).parent / "jars"
    extra = folder / "extra.jar"
    shutil.copyfile(next(jars.glob("commons-lang3-*.jar")), extra)
    archive = folder / "foreign.jsa"
    subprocess.run(
        ["java", f"-XX:ArchiveClassesAtExit={archive}", "-Xlog:cds*=off",
         "-cp", f"{extra}:{jars}/*", "org.apache.spark.deploy.SparkSubmit", "--version"],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    return archive


@pytest.mark.parametrize("content", ["empty", "garbage", "zeros", "another class path"])
def test_a_sealed_archive_that_does_not_fit_is_ignored_quietly(tmp_path, monkeypatch, content):
    """A sealed archive that does not fit (another Java build or Spark class path, after an
    upgrade) costs nothing but its gain: the JVM starts without it, and says nothing on
    stdout, which may carry a job's output (without -Xlog:cds*=off it would for a class path
    that does not match)."""
    archive = tmp_path / "driver-classes.jsa"
    if content == "another class path":
        shutil.move(foreign_archive(tmp_path), archive)
    else:
        archive.write_bytes({"empty": b"", "garbage": b"not an archive\n",
                             "zeros": b"\x00" * 4096}[content])  # fmt: skip
    class_data.seal(archive)
    factory = SparkFactory(master="local[1]", class_data_archive=archive, environ={}).for_run([])
    assert f"-XX:SharedArchiveFile={archive}" in factory.launch_options()[-1]
    with monkeypatch.context() as patched:  # the check leaves the environment's options out
        patched.setenv("_JAVA_OPTIONS", "-Xshare:off")
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
    # a path a JVM option cannot take is refused before any run (the JVM would cut it at the
    # space and write its archive to the part before it)
    spaced = tmp_path / "my notes" / "driver-classes.jsa"
    monkeypatch.setenv("ETL_CLASS_DATA_ARCHIVE", str(spaced))
    assert main([]) == 0
    assert "printable ASCII" in capsys.readouterr().err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a-file"]
    assert main(["--set", "spark.class_data_archive="]) == 0
    assert "off" in capsys.readouterr().out


def test_an_archive_that_does_not_map_is_not_put_in_place(tmp_path, monkeypatch):
    monkeypatch.setattr(tool, "usable", lambda factory, archive: False)
    destination = tmp_path / "driver-classes.jsa"
    factory = SparkFactory.from_config(load_config("local"))
    with pytest.raises(ClassDataError, match="does not map"):
        build(factory, destination)
    assert list(tmp_path.iterdir()) == []  # nor its temporary file
