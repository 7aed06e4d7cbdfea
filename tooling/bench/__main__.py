"""python -m tooling.bench: the Xetra job, the CloudWatch sink and the API fan-out against peers.

Prints a table, writes tooling/bench/results/<date>-<git sha>.json and ends with the line
`xetra warm_vs_duckdb=<r> cold_vs_pandas=<r> cloudwatch_vs_watchtower=<r>` (ratios of wall
times; the last one of µs per log call). Needs the real
Xetra files (../shared/data/xetra, or --data) and the bench extra (duckdb, polars, pandas,
watchtower: `make bench` installs it). Targets, and the latest figures: README.md, Performance.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tooling.bench import PROJECT_ROOT, BenchError

TARGETS = {"warm_vs_duckdb": 8.0, "cold_vs_pandas": 2.0, "cloudwatch_vs_watchtower": 0.5}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tooling.bench", description=__doc__)
    parser.add_argument("--data", type=Path, default=PROJECT_ROOT.parent / "shared/data/xetra")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "tooling/bench/results")
    parser.add_argument("--repeat", type=positive_int, default=3,
                        help="runs per fast peer and warm job runs (median)")  # fmt: skip
    parser.add_argument("--skip-cold", action="store_true", help="no fresh spark-submit run")
    return parser.parse_args(argv)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"at least 1 run is needed, got {value}")
    return value


def git_sha() -> str:
    result = subprocess.run(["git", "rev-parse", "--short=10", "HEAD"], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, check=False)  # fmt: skip
    return result.stdout.strip() or "unknown"


def machine() -> dict[str, Any]:
    java = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False)
    return {"cpus": os.cpu_count(), "python": platform.python_version(),
            "java": (java.stderr.splitlines() or ["?"])[0],
            "platform": platform.platform()}  # fmt: skip


def ratio(numerator: float | None, denominator: float) -> float | None:
    return None if numerator is None else round(numerator / denominator, 2)


def ratio_text(value: float | None) -> str:
    return "skipped" if value is None else f"{value:.2f}"


def floor_ratios(xetra: dict[str, Any], cloudwatch: dict[str, Any]) -> dict[str, float | None]:
    """Per target, the same ratio for the job or sink with none of its own work, in this run:
    Spark's floor (the report with no checks, in the job's warm session) against DuckDB,
    the job's entry with nothing to read (spark-submit, JVM, session; the daily case) against
    pandas, and a logging handler that only formats against watchtower."""
    seconds, daily = xetra["seconds"], xetra.get("daily") or {}
    return {
        "warm_vs_duckdb": ratio(seconds.get("spark_floor"), seconds["duckdb"]),
        "cold_vs_pandas": ratio(daily.get("empty_run"), seconds["pandas"]),
        "cloudwatch_vs_watchtower": ratio(
            cloudwatch.get("stdlib_floor_us_per_log_call"),
            cloudwatch["watchtower"]["us_per_log_call"],
        ),
    }


def missed_targets(
    ratios: dict[str, float | None],
    cloudwatch: dict[str, Any],
    floors: dict[str, float | None] | None = None,
) -> list[str]:
    """The targets a run missed: a ratio above its target, or a round in which the sink did
    not deliver every event (the CloudWatch target is per call *and* 100 % delivered). A
    target that the floor of `floors` already misses says so."""
    floors = floors or {}
    missed = []
    for key, value in ratios.items():
        if value is None or value <= TARGETS[key]:
            continue
        floor = floors.get(key)
        beyond = (
            f" (its floor alone {floor:.2f})" if floor is not None and floor > TARGETS[key] else ""
        )
        missed.append(f"{key} {ratio_text(value)} > {TARGETS[key]}{beyond}")
    delivered = cloudwatch["datalake_etl"]["events_delivered"]
    if delivered < cloudwatch["events"]:
        missed.append(f"cloudwatch delivered {delivered:,} of {cloudwatch['events']:,} events "
                      f"in a round")  # fmt: skip
    return missed


def table(results: dict[str, Any]) -> str:
    xetra, seconds = results["xetra"], results["xetra"]["seconds"]
    load = xetra["workload"]
    rows = [f"Xetra report {load['start']}..{load['end']}: {load['rows_read']:,} rows read, "
            f"{load['report_rows']:,} report rows, {load['files_read']} files, {load['master']}, "
            f"line parser {load.get('line_parser', '?')}",
            f"{'':34}{'seconds':>10}{'x DuckDB':>10}"]  # fmt: skip
    mapped = seconds.get("job_cold_class_data_archive")
    labels = {"job_cold": f"job, cold ({'spark-submit, CDS' if mapped else 'fresh spark-submit'})",
              "job_first_in_session": "job, first run in a session",
              "job_warm": "job, warm (median of runs 2..)" if "job_warm_runs" in seconds
                          else "job, warm (second run)",
              "spark_floor": "Spark floor (no checks)",
              "duckdb": "DuckDB (typed read_csv)",
              "polars": "Polars (lazy)", "pandas": "pandas (course style)"}  # fmt: skip
    for key, label in labels.items():
        if seconds.get(key) is not None:
            versus = seconds[key] / seconds["duckdb"]
            rows.append(f"  {label:32}{seconds[key]:>10.2f}{versus:>10.2f}")
    if seconds.get("spark_floor") and seconds.get("job_warm_runs"):
        runs = ", ".join(f"{value:.2f}" for value in seconds["job_warm_runs"])
        rows.append(f"  job warm / Spark floor: {seconds['job_warm'] / seconds['spark_floor']:.2f}"
                    f" (warm runs: {runs} s)")  # fmt: skip
    rows.append(f"{'trading days':>14}{'rows':>10}{'job s':>8}{'job rows/s':>12}"
                f"{'DuckDB s':>10}{'DuckDB rows/s':>15}")  # fmt: skip
    for days, s in xetra["scaling"].items():
        rows.append(f"{days:>14}{s['rows']:>10,}{s['job_seconds']:>8.2f}"
                    f"{s['job_rows_per_second']:>12,}{s['duckdb_seconds']:>10.2f}"
                    f"{s['duckdb_rows_per_second']:>15,}")  # fmt: skip
    if xetra.get("daily"):
        daily = xetra["daily"]
        rows.append(f"Daily case (one day, cold): {daily['one_day']:.2f} s; the same entry with "
                    f"nothing to read: {daily['empty_run']:.2f} s "
                    f"({daily['fixed_share']:.0%} fixed overhead)")  # fmt: skip
    if xetra.get("class_data_sharing"):
        cds = xetra["class_data_sharing"]
        rows.append(f"Class-data sharing (driver JVM, one day, cold): without {cds['without']:.2f}"
                    f" s, with an archive of that day {cds['with_archive']:.2f} s (the run writing "
                    f"it {cds['recording_run']:.2f} s)")  # fmt: skip
    if mapped:
        rows.append(f"  cold runs (month, daily case, empty entry) map the local profile's archive "
                    f"({mapped}, make setup)")  # fmt: skip
    rows.append("Warm run, per Spark job (Spark's event log):")
    rows.append(xetra["warm_stages"])
    cw = results["cloudwatch"]
    rows.append(f"CloudWatch, {cw['events']:,} events of {cw['message_bytes']} bytes, median "
                f"of {cw['rounds']} rounds:"
                f"{'us/call':>10}{'PutLogEvents':>14}{'drain s':>9}{'cpu us/event':>14}"
                f"{'delivered':>11}")  # fmt: skip
    labels = {
        "datalake_etl": "datalake_etl (delivery=process, the driver's)",
        "datalake_etl_thread": "datalake_etl (delivery=thread)",
        "watchtower": "watchtower",
    }
    for name, label in labels.items():
        if name not in cw:  # older result files have no thread row
            continue
        r = cw[name]
        cpu = r.get("cpu_us_per_event")  # older result files have none
        rows.append(f"  {label:45}{r['us_per_log_call']:>10.2f}{r['put_log_events_calls']:>14}"
                    f"{r['drain_seconds']:>9.2f}{'-' if cpu is None else f'{cpu:.2f}':>14}"
                    f"{r['events_delivered']:>11,}")  # fmt: skip
    floor = cw["stdlib_floor_us_per_log_call"]
    rows.append(f"  {'floor: a handler that only formats':45}{floor:>10.2f}"
                f"  ({floor / cw['watchtower']['us_per_log_call']:.2f}x watchtower)")  # fmt: skip
    api = results["api"]
    speedups = ", ".join(f"{w} workers {s}x" for w, s in api["speedup"].items())
    rows.append(f"API fan-out, {api['requests']} requests at {api['latency_seconds'] * 1000:.0f} "
                f"ms: sequential {api['seconds']['1']} s; {speedups}")  # fmt: skip
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from tooling.bench.api_fanout import bench_api
    from tooling.bench.cloudwatch import bench_cloudwatch
    from tooling.bench.xetra import bench_xetra
    from tooling.local.emulator import S3Emulator, patched_environ

    started = datetime.now(UTC)
    try:
        xetra = bench_xetra(args.data.resolve(), cold=not args.skip_cold, repeat=args.repeat)
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    emulator = S3Emulator(separate_process=True)  # its requests off the handlers' GIL
    with emulator, patched_environ(emulator.environment()):
        cloudwatch = bench_cloudwatch(emulator.endpoint_url)
    seconds = xetra["seconds"]
    results = {
        "started": started.isoformat(timespec="seconds"),
        "git_sha": git_sha(),
        "machine": machine(),
        "xetra": xetra,
        "cloudwatch": cloudwatch,
        "api": bench_api(),
        "ratios": {
            "warm_vs_duckdb": ratio(seconds["job_warm"], seconds["duckdb"]),
            "cold_vs_pandas": ratio(seconds["job_cold"], seconds["pandas"]),
            "cloudwatch_vs_watchtower": ratio(
                cloudwatch["datalake_etl"]["us_per_log_call"],
                cloudwatch["watchtower"]["us_per_log_call"],
            ),
        },
        "targets": TARGETS,
    }
    floors = results["floor_ratios"] = floor_ratios(xetra, cloudwatch)
    print(table(results))
    floor_text = " ".join(f"{key}={ratio_text(floors[key])}" for key in TARGETS)
    print(f"floors (no checks; nothing to read; a handler that only formats): {floor_text}")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{started.date().isoformat()}-{results['git_sha']}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results: {path}")
    ratios = results["ratios"]
    missed = missed_targets(ratios, cloudwatch, floors)
    if missed:
        print(f"targets missed: {', '.join(missed)}")
    print("xetra " + " ".join(f"{key}={ratio_text(ratios[key])}" for key in TARGETS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
