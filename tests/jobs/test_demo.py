"""The demo job: its pure transform (chispa), its run over s3a, and its command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from chispa import assert_df_equality

from jobs.demo.job import run, synthetic_trades_csv
from jobs.demo.transform import TRADES_SCHEMA, summarise_by_symbol

pytestmark = pytest.mark.spark
ROOT = Path(__file__).resolve().parents[2]


def test_summarise_by_symbol_weights_price_by_volume(spark):
    # given
    trades = spark.createDataFrame(
        [
            ("SAP", "2024-01-01", 10.0, 1),
            ("SAP", "2024-01-01", 20.0, 3),
            ("BMW", "2024-01-01", 5.0, 2),
            ("SAP", "2024-01-02", 7.0, 5),
        ],
        TRADES_SCHEMA,
    )
    # when
    summary = trades.transform(summarise_by_symbol)
    # then
    expected = spark.createDataFrame(
        [
            ("BMW", "2024-01-01", 1, 2, 5.0),
            ("SAP", "2024-01-01", 2, 4, 17.5),
            ("SAP", "2024-01-02", 1, 5, 7.0),
        ],
        "symbol string, trade_date string, trades long, volume long, vwap double",
    )
    assert_df_equality(summary, expected, ignore_nullable=True)


def test_run_reads_and_writes_over_s3a(spark, s3, bucket):
    s3.put_object(Bucket=bucket, Key="raw/t.csv", Body=synthetic_trades_csv(300).encode())
    result = run(spark, f"s3a://{bucket}/raw/", f"s3a://{bucket}/out")
    assert result.rows_read == 300
    assert result.summary_rows == 15  # 5 symbols x 3 days
    volumes = spark.read.parquet(result.output_uri).groupBy().sum("volume").first()[0]
    assert (
        volumes
        == spark.read.csv(f"s3a://{bucket}/raw/", header=True, schema=TRADES_SCHEMA)
        .groupBy()
        .sum("volume")
        .first()[0]
    )


def test_make_run_command_runs_end_to_end_on_an_embedded_emulator(tmp_path):
    """What `make run` runs: its own moto server, the job over s3a, a printed result."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "jobs.demo",
            "--env",
            "local",
            "--embedded-emulator",
            "--rows",
            "50",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "rows read: 50; summary rows: 15" in result.stdout
    assert "curated/summary/_SUCCESS" in result.stdout
