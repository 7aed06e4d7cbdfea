"""The packaged Xetra entry under spark-submit --py-files, and the same script as a Glue script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from lib.config import load_config
from lib.spark import SparkFactory
from lib.spark.jars import ALL_JARS, JOBS_JAR, default_jars_dir, jar_paths
from tooling.deploy.package import build_pyfiles_archive
from tooling.generators.xetra import date_range, day_files

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def packaged(tmp_path_factory):
    work = tmp_path_factory.mktemp("submit")
    archive = build_pyfiles_archive(ROOT, work / "dist")
    entry = work / "xetra_entry.py"
    shutil.copy(ROOT / "jobs/xetra/entry.py", entry)
    source = work / "pds"
    for day in date_range(date(2024, 1, 4), date(2024, 1, 5)):
        for key, text in day_files(day, count=4, trades_per_hour=5):
            (source / key).parent.mkdir(parents=True, exist_ok=True)
            (source / key).write_text(text)
    return work, archive.path, entry, source


def submit(work, archive, entry, args, extra_env=None):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SPARK_HOME")}
    env.update(
        {
            "PYSPARK_PYTHON": sys.executable,
            "ETL_JARS_DIR": str(default_jars_dir()),
            "SPARK_MASTER": "local[2]",
            **(extra_env or {}),
        }
    )
    spark_submit = Path(sys.executable).parent / "spark-submit"
    # an external spark-submit starts the JVM before the job runs: jars and the local profile's
    # launch options (driver memory, collector) go on its command line, as README shows
    jars = ",".join(str(path) for path in [*jar_paths(default_jars_dir(), ALL_JARS),
                                             default_jars_dir() / JOBS_JAR])  # fmt: skip
    launch = SparkFactory.from_config(load_config("local", environ={})).launch_options()
    return subprocess.run(
        [str(spark_submit), "--master", "local[2]", "--conf", "spark.ui.enabled=false", *launch,
         "--jars", jars, "--py-files", str(archive), str(entry), *args],
        capture_output=True, text=True, cwd=work, env=env, timeout=600, check=False,
    )  # fmt: skip


def job_args(source, target):
    return ["--env", "local", "--source", source.as_uri(), "--target", target.as_uri(),
            "--start", "2024-01-05", "--end", "2024-01-05",
            "--set", "logging.log_path="]  # fmt: skip


def test_spark_submit_runs_the_packaged_entry(packaged):
    work, archive, entry, source = packaged
    target = work / "lake-submit"
    result = submit(work, archive, entry, job_args(source, target))
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(next((target / "_state/xetra/runs").glob("*.json")).read_text())
    assert summary["report_rows"] == 4
    assert summary["rows"]["read"] == summary["rows"]["used"] > 0
    assert summary["line_parser"] == "jvm"  # the jobs' jar, given with --jars as a release does


def test_the_same_script_takes_its_arguments_from_the_real_awsglue(packaged, tmp_path):
    """awsglue-dev (the Python part of aws-glue-libs) is installed: Glue's own
    getResolvedOptions resolves the arguments, hyphenated names and several overrides in one
    --set included, next to the arguments Glue adds itself."""
    import awsglue.utils

    assert Path(awsglue.utils.__file__).is_relative_to(Path(sys.prefix))  # the real package
    work, archive, entry, source = packaged
    target = work / "lake-glue"
    conf_dir = tmp_path / "conf"
    shutil.copytree(ROOT / "conf", conf_dir)
    glue_args = [
        "--JOB_ID", "j_123", "--JOB_RUN_ID", "jr_abc", "--JOB_NAME", "datalake-etl-xetra-local",
        "--job-bookmark-option", "job-bookmark-disable", "--TempDir", "s3://tmp/glue/",
        "--env", "local", "--source", source.as_uri(), "--target", target.as_uri(),
        "--start", "2024-01-05", "--end", "2024-01-05", "--run-id", "glue-run-7",
        "--conf-dir", conf_dir.as_uri(),
        "--set", "logging.log_path=; spark.shuffle_partitions=3",
    ]  # fmt: skip
    result = submit(work, archive, entry, glue_args)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (target / "xetra_daily_report" / "trade_date=2024-01-05").is_dir()
    (state,) = (target / "_state/xetra/runs").glob("*.json")
    assert "glue-run-7" in state.name
    assert not (work / "logs").exists()  # logging.log_path= (the first pair) was applied


def test_countries_extract_entry_fixes_its_subcommand(tmp_path):
    """Glue passes only --key value pairs: the countries entries carry their sub-command."""
    from tooling.local.api_server import FakeApiServer, synthetic_countries

    with FakeApiServer(countries=synthetic_countries()) as api:
        result = subprocess.run(
            [sys.executable, str(ROOT / "jobs/countries/entry_extract.py"), "--env", "local",
             "--base-url", api.base_url, "--target", (tmp_path / "raw").as_uri(),
             "--date", "2024-01-01", "--set", "logging.log_path="],
            capture_output=True, text=True, timeout=120, check=False,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    manifest = tmp_path / "raw/restcountries/alpha/extraction_date=2024-01-01/_manifest.json"
    assert json.loads(manifest.read_text())["counts"]["parts"] == len(synthetic_countries())
