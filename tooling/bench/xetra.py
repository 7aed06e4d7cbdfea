"""The Xetra job on the real July 2017 files, timed against its peers.

Workload (issue 7): the hourly files of ../shared/data/xetra → the daily report for
2017-07-03..2017-07-31 (21 trading days, lookback 14 days), read from file://, on local[2].

- warm: the job's `main` run a second time in a Python process whose SparkSession is up;
- Spark floor: the same report by plain Spark in that session (typed read, aggregate, window,
  partitioned Parquet write; no validation, de-dup, quarantine, counts or state);
- cold: a fresh `spark-submit` of jobs/xetra/entry.py, process start to exit (median of
  `repeat` runs, as for every peer, pandas included);
- scaling: 1, 5 and 21 trading days, job (warm) and DuckDB;
- the daily case: one day, cold, and the same entry with nothing to read (its fixed cost);
- class-data sharing: a cold one-day run with and without an archive of the driver JVM.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from lib.spark import class_data
from lib.spark.factory import SparkFactory
from lib.storage import file_uri
from tooling.bench import PROJECT_ROOT, BenchError
from tooling.bench.stages import event_log_conf, jobs_between, stage_table
from tooling.bench.xetra_peers import PEERS, check_equal, write_spark_report
from tooling.local.spark_submit import spark_submit

START, END, LOOKBACK = date(2017, 7, 3), date(2017, 7, 31), 14
SCALING = {1: date(2017, 7, 3), 5: date(2017, 7, 7), 21: END}  # trading days -> last date
SCALING_DAY = date(2017, 7, 31)  # the daily case: the last day, its lookback read too
EMPTY_DAY = date(2030, 1, 2)  # no files: a run of the same entry with nothing to read
MASTER = "local[2]"


@dataclass(frozen=True)
class Timed:
    seconds: float
    rows: int


def files_for(data: Path, start: date, end: date) -> list[Path]:
    """The hour files the job reads for [start, end]: the dates back to start - lookback."""
    first = (start - timedelta(days=LOOKBACK)).isoformat()
    return sorted(
        path
        for path in data.glob("*/*_BINS_XETR*.csv")
        if first <= path.name[:10] <= end.isoformat()
    )


def job_args(data: Path, target: Path, start: date, end: date) -> list[str]:
    return ["--env", "local", "--source", file_uri(data), "--target", file_uri(target),
            "--start", start.isoformat(), "--end", end.isoformat(),
            "--set", "logging.stdout=false", "--set", "logging.log_path="]  # fmt: skip


def read_report(target: Path) -> pd.DataFrame:
    return read_partitioned(target / "xetra_daily_report")


def read_partitioned(folder: Path) -> pd.DataFrame:
    """A Parquet table partitioned by date, read with pyarrow (not with Spark)."""
    import pyarrow.dataset as ds

    return ds.dataset(folder, format="parquet", partitioning="hive").to_table().to_pandas()


def read_summary(target: Path) -> dict[str, Any]:
    [path] = (target / "_state/xetra/runs").glob("*.json")
    return json.loads(path.read_text())


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


class JobRunner:
    """Runs jobs.xetra in this process on one SparkSession (local[2])."""

    def __init__(self, data: Path, work: Path) -> None:
        self.data = data
        self.work = work
        self.runs = 0

    def __enter__(self) -> JobRunner:
        from jobs.xetra.job import XetraSettings
        from lib.config import load_config
        from lib.spark import SparkFactory
        from tooling.local.emulator import patched_environ

        # the bench's master for this session and for every run's configuration
        self._environ = patched_environ({"SPARK_MASTER": MASTER})
        self._environ.__enter__()
        try:
            config = load_config("local", "xetra", XetraSettings)
            self.events = self.work / "spark-events"
            self.spark = SparkFactory.from_config(config).create_session(
                app_name="bench-xetra", log_level="ERROR", extra_args=event_log_conf(self.events)
            )
        except BaseException:
            self._environ.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.spark.stop()
        self._environ.__exit__(*exc_info)

    def run(self, start: date, end: date) -> tuple[float, Path, dict[str, Any]]:
        from jobs.xetra.__main__ import main

        self.runs += 1
        target = self.work / f"warm-{self.runs}"
        # the run summary goes to stdout: the bench reads it from the state instead
        started_ms = int(time.time() * 1000)
        with contextlib.redirect_stdout(io.StringIO()):
            seconds, code = timed(lambda: main(job_args(self.data, target, start, end)))
        if code != 0:
            raise BenchError(f"the Xetra job exited {code} ({start}..{end})")
        self.last_window = (started_ms, int(time.time() * 1000))
        return seconds, target, read_summary(target)

    def last_run_stages(self, seconds: float) -> str:
        """The stage table of the last run (Spark's event log, flushed at each job's end)."""
        return stage_table(jobs_between(self.events, *self.last_window), seconds)


def run_factory(
    source: str, target: str, fmt: str = "parquet", class_data: bool = True
) -> SparkFactory:
    """The local profile's SparkFactory narrowed to a run of the job over these URIs
    (SparkFactory.for_run): the jars it loads and the options its launch takes (without the
    class-data archive when `class_data` is false)."""
    from jobs.xetra.job import XetraSettings
    from lib.config import load_config

    factory = SparkFactory.from_config(load_config("local", "xetra", XetraSettings))
    narrowed = factory.for_run([source, target], fmt)
    if not class_data:
        narrowed.class_data_archive = None
    return narrowed


def cold_run(
    data: Path,
    target: Path,
    start: date = START,
    end: date = END,
    java_options: str = "",
    class_data: bool = True,
) -> float:
    """A fresh spark-submit of the entry script, process start to exit, as a scheduler starts
    it: the jars the run needs on its command line (none for file:// Parquet) and the local
    profile's launch options (driver memory and JVM options, the class-data archive of `make
    setup` included unless `class_data` is false: SparkFactory.launch_options); `java_options`
    go after the profile's JVM options."""
    factory = run_factory(file_uri(data), file_uri(target), class_data=class_data)
    seconds, result = timed(
        lambda: spark_submit(factory, [str(PROJECT_ROOT / "jobs/xetra/entry.py"),
                                       *job_args(data, target, start, end)], MASTER, java_options)
    )  # fmt: skip
    if result.returncode != 0:
        raise BenchError(f"spark-submit exited {result.returncode}: {result.stdout[-2000:]}"
                         f"{result.stderr[-2000:]}")  # fmt: skip
    return seconds


def class_data_sharing(data: Path, work: Path) -> dict[str, float]:
    """Cold runs with a class-data-sharing archive of the driver JVM (Java 17): one run writes
    the archive at exit (-XX:ArchiveClassesAtExit), the next maps it (-XX:SharedArchiveFile),
    timed against a run without it, all three on one trading day."""
    archive = work / "driver.jsa"
    day = SCALING_DAY
    recording = cold_run(data, work / "cds-record", day, day,
                         f"-XX:ArchiveClassesAtExit={archive}", class_data=False)  # fmt: skip
    if not archive.is_file():
        raise BenchError("the JVM wrote no class-data-sharing archive")
    without = cold_run(data, work / "cds-without", day, day, class_data=False)
    shared = cold_run(data, work / "cds-with", day, day, f"-XX:SharedArchiveFile={archive}",
                      class_data=False)  # fmt: skip
    return {"recording_run": round(recording, 2), "without": round(without, 2),
            "with_archive": round(shared, 2)}  # fmt: skip


def daily_case(data: Path, work: Path) -> dict[str, float]:
    """A one-day incremental run, cold, end to end (the shape of a nightly EMR step or Glue
    run), and the same entry with nothing to read (a date without files): its fixed cost."""
    day_seconds = cold_run(data, work / "daily", SCALING_DAY, SCALING_DAY)
    empty_seconds = cold_run(data, work / "daily-empty", EMPTY_DAY, EMPTY_DAY)
    return {"one_day": round(day_seconds, 2), "empty_run": round(empty_seconds, 2),
            "fixed_share": round(empty_seconds / day_seconds, 2)}  # fmt: skip


def checked_runs(
    name: str, expected: pd.DataFrame, repeat: int,
    run: Callable[[int], tuple[float, pd.DataFrame]],
) -> list[float]:  # fmt: skip
    """The seconds of `repeat` runs (`run(index)` -> seconds, the report it made), each run's
    report checked equal to the project's before its time counts."""
    times = []
    for index in range(repeat):
        seconds, report = run(index)
        check_equal(name, expected, report)
        times.append(seconds)
    return times


def spark_floor(spark: Any, data: Path, expected: pd.DataFrame, work: Path, repeat: int) -> float:
    """Median seconds of write_spark_report in the job's warm session (the write alone; its
    output is read back with pyarrow for the check, untimed)."""
    files = files_for(data, START, END)

    def run(index: int) -> tuple[float, pd.DataFrame]:
        target = work / f"spark-floor-{index}"
        seconds, _ = timed(lambda: write_spark_report(spark, files, START, END, LOOKBACK, target))
        return seconds, read_partitioned(target)

    return statistics.median(checked_runs("spark floor", expected, repeat, run))


def peer_times(
    data: Path, expected: pd.DataFrame, start: date, end: date, names: tuple[str, ...], repeat: int
) -> dict[str, float]:
    """Median wall time of each peer, after its output was checked equal to the project's."""
    files = files_for(data, start, end)
    times = {}
    for name in names:
        peer = PEERS[name]

        def run(_: int, peer: Callable[..., pd.DataFrame] = peer) -> tuple[float, pd.DataFrame]:
            return timed(lambda: peer(files, start, end, LOOKBACK))

        times[name] = statistics.median(checked_runs(name, expected, repeat, run))
    return times


def bench_xetra(data: Path, cold: bool = True, repeat: int = 3) -> dict[str, Any]:
    if not (data / "2017-07-03").is_dir():
        raise BenchError(f"the real Xetra files are not in {data} (see ../shared/data/xetra)")
    work = Path(tempfile.mkdtemp(prefix="bench-xetra-"))
    try:
        with JobRunner(data, work) as runner:
            first, _, _ = runner.run(START, END)
            # the median of `repeat` warm runs, as for every peer (one run varies by 20 %)
            warm_runs = []
            for _ in range(max(1, repeat)):
                seconds, target, summary = runner.run(START, END)
                warm_runs.append((seconds, target, summary, runner.last_run_stages(seconds)))
            warm_times = [run[0] for run in warm_runs]
            warm = statistics.median(warm_times)  # as for the peers (even counts: the mean of two)
            # the stage table and the report of the run at the median (the lower of two)
            _, target, summary, stages = sorted(warm_runs, key=lambda run: run[0])[
                (len(warm_runs) - 1) // 2
            ]
            rows = summary["rows"]
            if rows["quarantined"] or rows["duplicates"]:
                raise BenchError(f"the peers compute no validation; the job found some: {rows}")
            if summary["dates_read_again"]:  # every real line is the line parser's
                raise BenchError(f"dates read twice: {summary['dates_read_again']}")
            expected = read_report(target)
            for _, other, _, _ in warm_runs:  # every warm run made the same report
                check_equal("warm job", expected, read_report(other))
            peers = peer_times(data, expected, START, END, tuple(PEERS), repeat)
            floor = spark_floor(runner.spark, data, expected, work, repeat)
            scaling = {}
            for trading_days, end in SCALING.items():
                if end == END:
                    seconds, run_rows, report = warm, rows["read"], expected
                else:
                    seconds, run_target, run_summary = runner.run(START, end)
                    run_rows, report = run_summary["rows"]["read"], read_report(run_target)
                duck = peer_times(data, report, START, end, ("duckdb",), repeat)["duckdb"]
                scaling[trading_days] = {
                    "rows": run_rows,
                    "job_seconds": round(seconds, 2),
                    "job_rows_per_second": round(run_rows / seconds),
                    "duckdb_seconds": round(duck, 2),
                    "duckdb_rows_per_second": round(run_rows / duck),
                }

        def cold_once(index: int) -> tuple[float, pd.DataFrame]:
            return cold_run(data, work / f"cold-{index}"), read_report(work / f"cold-{index}")

        # the median: one cold run varies by 20 %
        cold_runs = checked_runs("cold job", expected, repeat if cold else 0, cold_once)
        cold_seconds = statistics.median(cold_runs) if cold_runs else None
        # the archive the cold runs' launch options mapped (a sealed one), if any
        launch = run_factory(file_uri(data), file_uri(work)).launch_options()
        cold_archive = class_data.archive_in(launch) if cold_runs else None
        daily = daily_case(data, work) if cold else None
        cds = class_data_sharing(data, work) if cold else None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    workload = {"start": START.isoformat(), "end": END.isoformat(), "master": MASTER,
                "rows_read": rows["read"], "report_rows": len(expected),
                "files_read": summary["files_read"],
                "line_parser": summary["line_parser"]}  # fmt: skip
    return {
        "workload": workload,
        "seconds": {
            "job_first_in_session": round(first, 2),
            "job_warm": round(warm, 2),
            "job_warm_runs": [round(seconds, 2) for seconds in warm_times],
            "spark_floor": round(floor, 2),
            "job_cold": round(cold_seconds, 2) if cold_seconds is not None else None,
            "job_cold_runs": [round(seconds, 2) for seconds in cold_runs],
            "job_cold_class_data_archive": cold_archive,
            **{peer: round(value, 2) for peer, value in peers.items()},
        },
        "scaling": scaling,
        "daily": daily,
        "class_data_sharing": cds,
        "warm_stages": stages,
    }
