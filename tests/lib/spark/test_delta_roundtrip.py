"""Delta Lake over s3a:// on a moto server: write, replace one partition, time travel."""

from __future__ import annotations

import json

import pytest
from chispa import assert_df_equality
from delta.tables import DeltaTable
from pyspark.sql import functions as F

pytestmark = pytest.mark.spark


def test_delta_write_replace_where_and_time_travel(spark, s3, bucket):
    path = f"s3a://{bucket}/delta/prices"
    first = spark.createDataFrame(
        [("2024-01-01", "A", 1.0), ("2024-01-01", "B", 2.0), ("2024-01-02", "A", 3.0)],
        "day string, isin string, price double",
    )
    first.write.format("delta").partitionBy("day").save(path)

    # the transaction log is real objects in the bucket
    log = s3.get_object(Bucket=bucket, Key="delta/prices/_delta_log/00000000000000000000.json")
    actions = [json.loads(line) for line in log["Body"].read().decode().splitlines()]
    assert sum("add" in action for action in actions) >= 2

    replacement = spark.createDataFrame(
        [("2024-01-01", "A", 10.0)], "day string, isin string, price double"
    )
    (
        replacement.write.format("delta")
        .mode("overwrite")
        .option("replaceWhere", "day = '2024-01-01'")
        .save(path)
    )

    current = spark.read.format("delta").load(path)
    expected = spark.createDataFrame(
        [("A", 10.0, "2024-01-01"), ("A", 3.0, "2024-01-02")],
        "isin string, price double, day string",
    )
    assert_df_equality(current.select("isin", "price", "day"), expected, ignore_row_order=True)

    version_zero = spark.read.format("delta").option("versionAsOf", 0).load(path)
    assert_df_equality(version_zero.select("day", "isin", "price"), first, ignore_row_order=True)

    history = DeltaTable.forPath(spark, path).history().orderBy("version").collect()
    assert [row.version for row in history] == [0, 1]
    assert history[1].operation == "WRITE"
    assert history[1].operationParameters["predicate"].find("2024-01-01") >= 0


def test_replace_where_refuses_rows_outside_the_predicate(spark, bucket):
    """Delta guards replaceWhere: data outside the predicate is an error, not a silent write."""
    path = f"s3a://{bucket}/delta/guarded"
    spark.createDataFrame([("2024-01-01", 1)], "day string, v int").write.format(
        "delta"
    ).partitionBy("day").save(path)
    wrong = spark.createDataFrame([("2024-01-05", 2)], "day string, v int")
    with pytest.raises(Exception, match=r"(?i)replaceWhere|does not conform|not match"):
        (
            wrong.write.format("delta")
            .mode("overwrite")
            .option("replaceWhere", "day = '2024-01-01'")
            .save(path)
        )
    assert spark.read.format("delta").load(path).where(F.col("v") == 2).count() == 0


def test_delta_over_the_s3_scheme(spark, bucket):
    path = f"s3://{bucket}/delta/s3scheme"
    spark.range(5).write.format("delta").save(path)
    assert spark.read.format("delta").load(f"s3a://{bucket}/delta/s3scheme").count() == 5
