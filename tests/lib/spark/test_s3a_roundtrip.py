"""Spark over s3a:// against a real moto server: CSV in, Parquet out through the magic committer."""

from __future__ import annotations

import io
import json

import pyarrow.parquet as pq
import pytest
from chispa import assert_df_equality
from pyspark.sql import Row
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType, LongType, StringType, StructField, StructType

pytestmark = pytest.mark.spark

SCHEMA = StructType(
    [
        StructField("isin", StringType()),
        StructField("desc", StringType()),
        StructField("price", DoubleType()),
        StructField("volume", LongType()),
    ]
)
CSV = (
    "isin,desc,price,volume\n"
    'DE0005190003,"BMW AG ST EO 1",80.5,100\n'
    'CH0011075394,"ZURICH INSUR.GR.NA.SF0,10",250.25,7\n'
    'DE0005190003,"BMW AG ST EO 1",81.0,50\n'
)


def parquet_keys(s3, bucket, prefix):
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def test_csv_to_parquet_round_trip_with_the_magic_committer(spark, s3, bucket):
    s3.put_object(Bucket=bucket, Key="raw/2024-01-02/trades.csv", Body=CSV.encode())

    trades = spark.read.csv(f"s3a://{bucket}/raw/2024-01-02/", header=True, schema=SCHEMA)
    assert trades.count() == 3
    assert trades.where(F.col("isin") == "CH0011075394").first()["desc"] == (
        "ZURICH INSUR.GR.NA.SF0,10"
    )

    summary = trades.groupBy("isin").agg(F.sum("volume").alias("volume"))
    summary.write.mode("overwrite").parquet(f"s3a://{bucket}/curated/summary")

    keys = parquet_keys(s3, bucket, "curated/summary/")
    data_keys = [key for key in keys if key.endswith(".parquet")]
    assert data_keys, keys
    assert not any("__magic" in key for key in keys), "magic paths must not survive a commit"

    # a committer's _SUCCESS is a JSON manifest (a classic FileOutputCommitter writes 0 bytes)
    success = json.loads(
        s3.get_object(Bucket=bucket, Key="curated/summary/_SUCCESS")["Body"].read()
    )
    assert success["committer"] == "magic"
    assert sorted(key.rsplit("/", 1)[-1] for key in data_keys) == sorted(
        name.rsplit("/", 1)[-1] for name in success["filenames"]
    )

    # read back independently of Spark: boto3 + pyarrow
    tables = [
        pq.read_table(io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))
        for key in data_keys
    ]
    rows = sorted(row for table in tables for row in zip(*table.to_pydict().values(), strict=True))
    assert rows == [("CH0011075394", 7), ("DE0005190003", 150)]


def test_s3_scheme_is_served_by_s3a_locally(spark, s3, bucket):
    """One config with s3:// URIs runs locally (and on EMR 7.10+/Glue 5.1)."""
    s3.put_object(Bucket=bucket, Key="in/t.csv", Body=CSV.encode())
    frame = spark.read.csv(f"s3://{bucket}/in/", header=True, schema=SCHEMA)
    frame.write.mode("overwrite").parquet(f"s3://{bucket}/out")
    back = spark.read.parquet(f"s3a://{bucket}/out")
    assert_df_equality(back, frame, ignore_row_order=True)
    success = json.loads(s3.get_object(Bucket=bucket, Key="out/_SUCCESS")["Body"].read())
    assert success["committer"] == "magic"


def test_partitioned_write_and_partition_pruned_read(spark, s3, bucket):
    rows = [
        Row(day=f"2024-01-0{d}", isin=f"X{i}", price=float(i * d)) for d in (1, 2) for i in (1, 2)
    ]
    frame = spark.createDataFrame(rows)
    frame.write.mode("overwrite").partitionBy("day").parquet(f"s3a://{bucket}/t")
    keys = parquet_keys(s3, bucket, "t/")
    assert any(key.startswith("t/day=2024-01-01/") for key in keys)
    assert any(key.startswith("t/day=2024-01-02/") for key in keys)
    one_day = spark.read.parquet(f"s3a://{bucket}/t").where(F.col("day") == "2024-01-02")
    assert sorted(r.price for r in one_day.collect()) == [2.0, 4.0]


def test_reading_a_missing_bucket_fails_loudly(spark):
    with pytest.raises(Exception, match=r"(?i)(bucket|not exist|NoSuchBucket|Path does not exist)"):
        spark.read.parquet("s3a://no-such-bucket-here/x").count()
