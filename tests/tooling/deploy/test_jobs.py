"""Jobs are found by convention (a folder), and Delta for the platform comes from the job's
resolved configuration: no table of jobs, no flag, no sniffing of the job's arguments."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tooling.deploy.__main__ import main as deploy_main
from tooling.deploy.jobs import UnknownJob, deployable_name, discover, find

ROOT = Path(__file__).resolve().parents[3]
DELTA_EXTENSION_ARG = "spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension"


def test_every_job_folder_with_an_entry_is_deployable():
    jobs = discover(ROOT)
    assert list(jobs) == ["api-extract", "countries-extract", "countries-transform", "xetra"]
    assert jobs["countries-extract"].entry == "jobs/countries/entry_extract.py"
    assert {name: job.spec().name for name, job in jobs.items()} == {
        "api-extract": "api_extract",
        "countries-extract": "countries",
        "countries-transform": "countries",
        "xetra": "xetra",
    }
    assert deployable_name("my_job", "entry_daily_full") == "my-job-daily-full"
    with pytest.raises(UnknownJob, match="known: api-extract, countries-extract"):
        find(ROOT, "nope")


@pytest.fixture
def deploy_env(monkeypatch, tmp_path):
    monkeypatch.setenv("ETL_ARTIFACTS_URI", "s3://artifacts/etl")
    monkeypatch.setenv("ETL_GLUE_ROLE", "arn:aws:iam::123456789012:role/etl-glue")
    monkeypatch.chdir(tmp_path)  # dist/ goes here


def dry_run(capsys, *argv: str, job_args: tuple[str, ...] = ()) -> dict:
    code = deploy_main([*argv, "--root", str(ROOT), "--dry-run", "--", *job_args])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


def test_delta_follows_the_jobs_resolved_configuration(deploy_env, capsys):
    step = dry_run(capsys, "emr-step", "--env", "dev", "--job", "xetra", "--cluster-id", "j-1")
    assert DELTA_EXTENSION_ARG in step["Steps"][0]["HadoopJarStep"]["Args"]  # dev: spark.delta
    # the job will run with --set spark.delta=false: the cluster side follows it
    job_args = ("--env", "dev", "--set", "spark.delta=false")
    step = dry_run(capsys, "emr-step", "--env", "dev", "--job", "xetra", "--cluster-id", "j-1",
                   job_args=job_args)  # fmt: skip
    assert DELTA_EXTENSION_ARG not in step["Steps"][0]["HadoopJarStep"]["Args"]
    assert tuple(step["Steps"][0]["HadoopJarStep"]["Args"][-4:]) == job_args
    cluster = dry_run(capsys, "emr-cluster", "--env", "prod", "--job", "xetra",
                      job_args=("--env", "prod", "--set", "spark.delta=false"))  # fmt: skip
    classifications = [item["Classification"] for item in cluster["Configurations"]]
    assert "delta-defaults" not in classifications
    serverless = dry_run(capsys, "emr-serverless", "--env", "prod", "--job", "xetra",
                         "--application-id", "00app", "--set",
                         "deploy.emr.serverless_execution_role_arn=arn:aws:iam::1:role/run",
                         job_args=("--env", "prod"))  # fmt: skip
    assert "delta-spark.jar" in serverless["jobDriver"]["sparkSubmit"]["sparkSubmitParameters"]
    glue = dry_run(capsys, "glue-job", "--env", "dev", "--job", "countries-transform")
    assert glue["create_job"]["DefaultArguments"]["--datalake-formats"] == "delta"
    # a --format in the job's arguments is the job's business: it decides nothing here
    job_args = ("--env", "prod", "--format", "delta", "--set", "spark.delta=false")
    step = dry_run(capsys, "emr-step", "--env", "prod", "--job", "xetra", "--cluster-id", "j-1",
                   job_args=job_args)  # fmt: skip
    assert DELTA_EXTENSION_ARG not in step["Steps"][0]["HadoopJarStep"]["Args"]


def test_what_would_go_to_the_wrong_place_is_refused(deploy_env, capsys):
    # the tool's --set is for deploy.* and aws.*: a spark setting would never reach the job
    code = deploy_main(["glue-job", "--env", "dev", "--job", "xetra", "--dry-run",
                        "--set", "spark.delta=false"])  # fmt: skip
    assert code == 2
    assert "after `--`" in capsys.readouterr().err
    # --dry-run after `--` would be the job's argument and the request would be sent
    code = deploy_main(["emr-cluster", "--env", "dev", "--job", "xetra", "--",
                        "--env", "dev", "--dry-run"])  # fmt: skip
    assert code == 2
    assert "--dry-run after `--` would go to the job" in capsys.readouterr().err
    # glue-job's arguments are its DefaultArguments: run arguments belong to glue-run
    code = deploy_main(["glue-job", "--env", "dev", "--job", "xetra", "--dry-run", "--",
                        "--target", "s3://x"])  # fmt: skip
    assert code == 2
    assert "takes no job arguments" in capsys.readouterr().err
    # a job --env that is not the deployment's
    code = deploy_main(["emr-step", "--env", "dev", "--job", "xetra", "--cluster-id", "j-1",
                        "--dry-run", "--", "--env", "prod"])  # fmt: skip
    assert code == 2
    assert "the job's --env prod is not the tool's --env dev" in capsys.readouterr().err
    # malformed common options in the job's arguments: one line, no help, no exit
    for bad in (["--env", "bogus"], ["--env"], ["--help"]):
        code = deploy_main(["emr-step", "--env", "dev", "--job", "xetra", "--cluster-id", "j-1",
                            "--dry-run", "--", *bad])  # fmt: skip
        err = capsys.readouterr().err
        assert code == (2 if bad != ["--help"] else 0), err
        assert len(err.strip().splitlines()) <= 1
    # a Glue run cannot change Delta: Glue loads it by the job definition
    code = deploy_main(["glue-run", "--env", "dev", "--job", "xetra", "--dry-run", "--",
                        "--env", "dev", "--set", "spark.delta=false"])  # fmt: skip
    assert code == 2
    assert "defined with it on" in capsys.readouterr().err
    # an option both the tool and the job know (--target) stays the job's after `--`
    step = dry_run(capsys, "emr-step", "--env", "dev", "--job", "xetra", "--cluster-id", "j-1",
                   job_args=("--env", "dev", "--target", "s3://lake"))  # fmt: skip
    assert step["Steps"][0]["HadoopJarStep"]["Args"][-2:] == ["--target", "s3://lake"]


def test_a_jobs_own_spark_section_decides_for_that_job_only(deploy_env, capsys, tmp_path):
    conf = tmp_path / "conf"
    shutil.copytree(ROOT / "conf", conf)
    with (conf / "dev.yaml").open("a") as dev:
        dev.write("\njobs:\n  countries:\n    spark:\n      delta: false\n")

    def step_args(job, *tool_options, job_args=()):
        request = dry_run(capsys, "emr-step", "--env", "dev", "--job", job, "--cluster-id", "j-1",
                          *tool_options, job_args=job_args)  # fmt: skip
        return request["Steps"][0]["HadoopJarStep"]["Args"]

    # the job reads the config its --conf-dir names: one job's section, not the other's
    job_args = ("--env", "dev", "--conf-dir", str(conf))
    assert DELTA_EXTENSION_ARG not in step_args("countries-transform", job_args=job_args)
    assert DELTA_EXTENSION_ARG in step_args("xetra", job_args=job_args)
    # the tool's own --conf-dir is the tool's: the job still reads the packaged conf/
    assert DELTA_EXTENSION_ARG in step_args("countries-transform", "--conf-dir", str(conf),
                                            job_args=("--env", "dev"))  # fmt: skip


def test_a_job_needs_naming_and_an_unknown_one_is_refused(deploy_env, capsys):
    with pytest.raises(SystemExit):
        deploy_main(["glue-job", "--env", "dev", "--dry-run"])
    assert "--job" in capsys.readouterr().err
    assert deploy_main(["glue-job", "--env", "dev", "--job", "nope", "--dry-run"]) == 2
    assert "unknown job 'nope'; known: api-extract" in capsys.readouterr().err


def test_a_copied_job_folder_deploys_with_no_other_change(tmp_path):
    """What a new user does: copy jobs/xetra under a new name, then ask for a step and a job."""
    project = tmp_path / "project"
    for part in ("lib", "jobs", "tooling", "conf", "bootstrap"):
        shutil.copytree(ROOT / part, project / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(project / "jobs/xetra", project / "jobs/xetra_eu")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("ETL_", "PYTHONPATH"))},
        "ETL_ARTIFACTS_URI": "s3://artifacts/etl",
        "ETL_GLUE_ROLE": "arn:aws:iam::123456789012:role/etl-glue",
    }

    def deploy(*argv: str, job_args: tuple[str, ...] = ()) -> dict:
        result = subprocess.run(
            [sys.executable, "-m", "tooling.deploy", *argv, "--dry-run", "--", *job_args],
            capture_output=True, text=True, cwd=project, env=env, timeout=120, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-3000:]
        return json.loads(result.stdout)

    step = deploy("emr-step", "--env", "dev", "--job", "xetra-eu", "--cluster-id", "j-1",
                  job_args=("--env", "dev"))  # fmt: skip
    args = step["Steps"][0]["HadoopJarStep"]["Args"]
    assert args[-3:] == [
        "s3://artifacts/etl/datalake-etl/0.1.0/entries/xetra-eu.py",
        "--env",
        "dev",
    ]
    glue = deploy("glue-job", "--env", "dev", "--job", "xetra-eu")["create_job"]
    assert glue["Name"] == "datalake-etl-xetra-eu-dev"
    assert glue["Command"]["ScriptLocation"].endswith("/entries/xetra-eu.py")
    listed = subprocess.run(
        [sys.executable, "-m", "tooling.deploy", "package", "--env", "dev"],
        capture_output=True, text=True, cwd=project, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert "entries/xetra-eu.py" in listed.stdout
    assert (project / "dist/entries/xetra-eu.py").read_text() == (
        project / "jobs/xetra_eu/entry.py"
    ).read_text()


def test_the_job_env_travels_with_every_submit_request(deploy_env, capsys):
    """The job requires --env: a step built without one in its arguments gets the tool's."""
    job_args = ("--start", "2024-01-02", "--end", "2024-01-02")
    step = dry_run(capsys, "emr-step", "--env", "dev", "--job", "xetra", "--cluster-id", "j-1",
                   job_args=job_args)  # fmt: skip
    args = step["Steps"][0]["HadoopJarStep"]["Args"]
    assert args[-6:] == ["--env", "dev", *job_args]
    cluster = dry_run(capsys, "emr-cluster", "--env", "prod", "--job", "xetra", job_args=job_args)
    assert cluster["Steps"][0]["HadoopJarStep"]["Args"][-6:] == ["--env", "prod", *job_args]
    serverless = dry_run(capsys, "emr-serverless", "--env", "prod", "--job", "xetra",
                         "--application-id", "00app", "--set",
                         "deploy.emr.serverless_execution_role_arn=arn:aws:iam::1:role/run",
                         job_args=job_args)  # fmt: skip
    entry_args = serverless["jobDriver"]["sparkSubmit"]["entryPointArguments"]
    assert entry_args == ["--env", "prod", *job_args]
    # given once is kept once
    step = dry_run(capsys, "emr-step", "--env", "dev", "--job", "xetra", "--cluster-id", "j-1",
                   job_args=("--env", "dev", *job_args))  # fmt: skip
    assert step["Steps"][0]["HadoopJarStep"]["Args"].count("--env") == 1


def test_job_options_the_job_does_not_take_are_refused(deploy_env, capsys):
    """Under Glue getResolvedOptions would drop them without a word; spark-submit would exit 2
    on the platform. Both fail here, before anything is sent."""
    for job_args, said in ((["--tagret", "s3://x"], "does not take --tagret"),
                           (["-x", "1"], "does not take -x"),
                           (["--target=s3://lake/x"], "not --key=value")):  # fmt: skip
        code = deploy_main(["glue-run", "--env", "dev", "--job", "xetra", "--root", str(ROOT),
                            "--dry-run", "--", *job_args])  # fmt: skip
        assert code == 2
        assert said in capsys.readouterr().err
    step = dry_run(capsys, "emr-step", "--env", "dev", "--job", "xetra", "--cluster-id", "j-1",
                   job_args=("--target=s3://lake/x",))  # spark-submit takes the = form  # fmt: skip
    assert step["Steps"][0]["HadoopJarStep"]["Args"][-1] == "--target=s3://lake/x"
