"""The --py-files archive: deterministic, package paths kept, and loaded by executors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from lib import __version__
from tooling.deploy.package import archive_name, build_pyfiles_archive

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    return build_pyfiles_archive(ROOT, tmp_path_factory.mktemp("dist"))


def test_archive_keeps_package_paths_and_ships_config(archive):
    assert archive.path.name == archive_name() == f"datalake_etl-{__version__}.zip"
    with zipfile.ZipFile(archive.path) as zf:
        names = zf.namelist()
    assert "lib/__init__.py" in names
    assert "lib/spark/factory.py" in names
    assert "jobs/__init__.py" in names
    assert "jobs/xetra/__main__.py" in names
    assert "lib/_conf/base.yaml" in names
    assert "lib/_conf/prod.yaml" in names
    assert names == sorted(names)
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)
    assert not any(name.startswith(("tests/", ".jars/", ".venv/")) for name in names)


DEVELOPER_ONLY_IMPORTS = ("moto", "http.server", "socketserver", "botocore.stub")


def test_the_archive_holds_run_time_modules_only(archive):
    """No tooling, tests, demos or generators; no module that needs a developer's packages."""
    import ast

    with zipfile.ZipFile(archive.path) as zf:
        sources = {name: zf.read(name) for name in zf.namelist() if name.endswith(".py")}
    assert sorted({name.split("/")[0] for name in sources}) == ["jobs", "lib"]
    needs = {}
    for name, source in sources.items():
        imported = set()
        for node in ast.walk(ast.parse(source, filename=name)):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
        bad = sorted(
            module for module in imported
            if module.split(".")[0] == "tooling"
            or any(module == dev or module.startswith(dev + ".") for dev in DEVELOPER_ONLY_IMPORTS)
        )  # fmt: skip
        if bad:
            needs[name] = bad
    assert needs == {}
    assert not any("demo" in name or "generator" in name for name in sources)
    # every job folder's modules are in it, and nothing of the developer tooling
    for job in (ROOT / "jobs").glob("*/__main__.py"):
        assert f"jobs/{job.parent.name}/__main__.py" in sources


def test_the_wheel_holds_run_time_packages_only_even_after_a_stale_build(tmp_path):
    """A module left in build/ by an older layout must not ship again in the wheel."""
    from tooling.deploy.package import build_wheel

    stale = ROOT / "build" / "lib" / "lib" / "local"
    stale.mkdir(parents=True, exist_ok=True)
    (stale / "emulator.py").write_text("import moto\n")
    wheel = build_wheel(ROOT, tmp_path)
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops == {"lib", "jobs", f"datalake_etl-{__version__}.dist-info"}
    assert "lib/local/emulator.py" not in names
    assert "lib/_conf/base.yaml" in names and "lib/runner.py" in names


def test_same_sources_give_the_same_bytes(archive, tmp_path):
    # touch every source: timestamps must not leak into the archive
    for path in (ROOT / "lib").rglob("*.py"):
        os.utime(path)
    again = build_pyfiles_archive(ROOT, tmp_path)
    assert again.sha256 == archive.sha256
    assert again.path.read_bytes() == archive.path.read_bytes()


def test_a_changed_source_changes_the_digest(tmp_path):
    copy = tmp_path / "src"
    for package in ("lib", "jobs", "conf"):
        shutil.copytree(ROOT / package, copy / package)
    first = build_pyfiles_archive(copy, tmp_path / "a")
    (copy / "lib" / "__init__.py").write_text('__version__ = "9.9.9"\n')
    second = build_pyfiles_archive(copy, tmp_path / "b", version="9.9.9")
    assert first.sha256 != second.sha256


def test_config_loads_from_inside_the_archive(archive, tmp_path):
    """A wheel or zip carries its config: load it with the repository's conf/ out of reach."""
    code = textwrap.dedent(
        """
        import json, lib, lib.config
        config = lib.config.load_config("prod", environ={})
        print(json.dumps({"lib": lib.__file__, "sources": list(config.sources),
                          "log_group": config.logging.cloudwatch.log_group}))
        """
    )
    result = subprocess.run(
        [sys.executable, "-S", "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": f"{archive.path}:{_site_packages()}", "PATH": os.environ["PATH"]},
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert loaded["lib"].startswith(str(archive.path))
    assert loaded["sources"][0] == "package:lib/_conf/base.yaml"
    assert loaded["log_group"] == "/datalake-etl/prod"


def _site_packages() -> str:
    import yaml

    return str(Path(yaml.__file__).parents[1])


ENTRY = """
import json, sys
from pyspark.sql import SparkSession


def where_lib_comes_from(rows):
    import lib, lib.config, lib.spark.jars
    yield (lib.__file__, lib.__version__, sum(1 for _ in rows))


def main():
    spark = SparkSession.builder.getOrCreate()
    rdd = spark.sparkContext.parallelize(range(100), 4)
    found = rdd.mapPartitions(where_lib_comes_from).collect()
    print("RESULT " + json.dumps(found))
    spark.stop()


if __name__ == "__main__":
    main()
"""


def test_spark_submit_executors_import_lib_from_the_archive(archive, tmp_path):
    entry = tmp_path / "entry.py"
    entry.write_text(ENTRY)
    spark_submit = Path(sys.executable).parent / "spark-submit"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "PYSPARK_PYTHON", "SPARK_HOME")
    }
    env["PYSPARK_PYTHON"] = sys.executable
    result = subprocess.run(
        [
            str(spark_submit),
            "--master",
            "local[2]",
            "--conf",
            "spark.ui.enabled=false",
            "--py-files",
            str(archive.path),
            str(entry),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # no lib/ here: the archive is the only copy on the path
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(x for x in result.stdout.splitlines() if x.startswith("RESULT "))
    partitions = json.loads(line.removeprefix("RESULT "))
    assert len(partitions) == 4
    assert sum(count for _, _, count in partitions) == 100
    for lib_file, version, _ in partitions:
        assert archive.path.name in lib_file, lib_file
        assert lib_file.endswith("lib/__init__.py")
        assert version == __version__


def test_the_revision_is_dirty_when_packaged_files_differ_from_the_commit(tmp_path):
    """A new job folder not yet committed would be in the archive: the name must say so."""
    from tooling.deploy.package import git_revision

    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    for name in ("lib/__init__.py", "jobs/__init__.py", "conf/base.yaml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    clean = git_revision(tmp_path)
    assert clean and not clean.endswith("-dirty")
    (tmp_path / "jobs/new_job").mkdir()
    (tmp_path / "jobs/new_job/NOTES.md").write_text("not packaged")
    assert git_revision(tmp_path) == clean
    (tmp_path / "jobs/new_job/__main__.py").write_text("")
    assert git_revision(tmp_path) == f"{clean}-dirty"
    (tmp_path / "jobs/new_job/__main__.py").unlink()
    (tmp_path / "jobs/new_job/java").mkdir()
    (tmp_path / "jobs/new_job/java/Parser.java").write_text("class Parser {}")  # in the jar
    assert git_revision(tmp_path) == f"{clean}-dirty"


def test_the_cloudwatch_shipper_imports_lib_from_an_archive_added_at_run_time(
    archive, tmp_path, moto_server
):
    """spark-submit --py-files and Glue's --extra-py-files put the archive on sys.path while
    the driver runs, not in PYTHONPATH: the shipper (a child process) must import the same lib
    from it."""
    code = textwrap.dedent(
        f"""
        import logging, sys
        sys.path.insert(0, {str(archive.path)!r})
        import lib
        assert {str(archive.path)!r} in lib.__file__, lib.__file__
        from lib.logging.cloudwatch import CloudwatchLogs
        sink = CloudwatchLogs(region="eu-west-1", log_group_name="/archive",
                              log_stream_name="driver", delivery="process",
                              endpoint_url={moto_server.endpoint_url!r})
        sink.setFormatter(logging.Formatter("%(message)s"))
        sink.create_log_group()
        sink.create_log_stream()
        sink.info("from the archive's shipper")
        sink.close()
        assert sink.snapshot()["sent"] == 1, sink.snapshot()
        """
    )
    # -S: no site, so not this checkout's editable install either; boto3 from its folder
    env = {**os.environ, "PYTHONPATH": _site_packages()}
    result = subprocess.run(
        [sys.executable, "-S", "-c", code], capture_output=True, text=True, cwd=tmp_path,
        env=env, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    import boto3

    client = boto3.client("logs", endpoint_url=moto_server.endpoint_url, region_name="eu-west-1")
    events = client.get_log_events(logGroupName="/archive", logStreamName="driver")["events"]
    assert [event["message"] for event in events] == ["from the archive's shipper"]
