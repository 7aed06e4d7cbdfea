"""Extract (CSV over s3a), transform (pure), load (Parquet over s3a with the S3A committer)."""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession

from jobs.demo.transform import TRADES_SCHEMA, summarise_by_symbol

SYMBOLS = ("BMW", "SAP", "SIE", "ALV", "DTE")


def synthetic_trades_csv(rows: int, seed: int = 7) -> str:
    """A small, reproducible CSV of trades (header + `rows` lines)."""
    generator = random.Random(seed)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(field.name for field in TRADES_SCHEMA.fields)
    for index in range(rows):
        symbol = SYMBOLS[index % len(SYMBOLS)]
        day = f"2024-01-{1 + index % 3:02d}"
        writer.writerow(
            [symbol, day, round(generator.uniform(10, 200), 2), generator.randint(1, 500)]
        )
    return buffer.getvalue()


@dataclass(frozen=True)
class DemoResult:
    rows_read: int
    summary_rows: int
    output_uri: str


def extract(spark: SparkSession, source_uri: str) -> DataFrame:
    return spark.read.csv(source_uri, header=True, schema=TRADES_SCHEMA, mode="FAILFAST")


def load(summary: DataFrame, target_uri: str) -> None:
    summary.write.mode("overwrite").partitionBy("trade_date").parquet(target_uri)


def run(spark: SparkSession, source_uri: str, target_uri: str) -> DemoResult:
    trades = extract(spark, source_uri)
    summary = trades.transform(summarise_by_symbol)
    load(summary, target_uri)
    written = spark.read.parquet(target_uri)
    return DemoResult(trades.count(), written.count(), target_uri)
