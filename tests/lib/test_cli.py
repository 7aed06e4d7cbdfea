"""The common command line under spark-submit and under Glue's real getResolvedOptions."""

from __future__ import annotations

from jobs.xetra.__main__ import JOB
from lib.cli import runtime_argv
from lib.config import load_config, split_overrides

GLUE_OWN = ["--JOB_ID", "j_1", "--JOB_RUN_ID", "jr_1", "--JOB_NAME", "n",
            "--job-bookmark-option", "job-bookmark-disable", "--TempDir", "s3://t/"]  # fmt: skip


def test_glue_arguments_resolve_with_the_real_get_resolved_options():
    overrides = "spark.shuffle_partitions=3; logging.level=DEBUG"
    argv = [*GLUE_OWN, "--env", "dev", "--run-id", "r-9", "--conf-dir", "s3://b/conf",
            "--set", overrides, "--start", "2024-01-02"]  # fmt: skip
    resolved = runtime_argv(argv, JOB.parser())
    args = JOB.parser().parse_args(resolved)
    assert (args.env, args.run_id, args.conf_dir) == ("dev", "r-9", "s3://b/conf")
    assert str(args.start) == "2024-01-02"
    assert args.overrides == [overrides]


def test_without_glue_arguments_the_command_line_is_taken_as_given():
    argv = ["--env", "dev", "--set", "a=1", "--set", "b=2"]  # repeated --set: spark-submit
    assert runtime_argv(argv, JOB.parser()) == argv


def test_one_set_holds_several_overrides():
    assert split_overrides(["a.b=1; c.d=x", "spark.conf.k=-Da=1;-Db=2", "e="]) == [
        "a.b=1", "c.d=x", "spark.conf.k=-Da=1;-Db=2", "e=",
    ]  # fmt: skip
    config = load_config(
        "local", job="xetra", job_schema=JOB.settings,
        overrides=["spark.shuffle_partitions=3; logging.level=DEBUG;job.lookback_days=2"],
    )  # fmt: skip
    assert config.spark.shuffle_partitions == 3
    assert config.logging.level == "DEBUG"
    assert config.job.lookback_days == 2
