"""Object stores and table I/O: prefix boundaries, quoting for Delta, schema evolution."""

from __future__ import annotations

import pytest


def test_s3_store_lists_only_under_its_root_not_sibling_prefixes(aws, s3, bucket):
    from lib.storage import S3Store

    for key in ("data/a.json", "data/sub/b.json", "data-old/c.json", "database/d.json"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"{}")
    store = S3Store(f"s3://{bucket}/data", aws)
    assert sorted(item.key for item in store.list("")) == ["a.json", "sub/b.json"]
    assert sorted(item.key for item in store.list()) == ["a.json", "sub/b.json"]
    assert [item.key for item in store.list("sub")] == ["sub/b.json"]
    assert [item.key for item in store.list("a")] == ["a.json"]  # a prefix of names, as S3's


@pytest.mark.spark
@pytest.mark.parametrize("value", ["it's", "back\\slash", "both \\' mixed", "plain"])
def test_replace_where_values_with_quotes_and_backslashes(spark, tmp_path, value):
    from lib.spark.io import read_table, write_partitions

    uri = (tmp_path / "table").as_uri()
    first = spark.createDataFrame([(value, 1), ("other", 2)], "key string, n int")
    write_partitions(first, uri, "key", fmt="delta")
    second = spark.createDataFrame([(value, 10)], "key string, n int")
    write_partitions(second, uri, "key", fmt="delta")
    rows = sorted(tuple(row) for row in read_table(spark, uri, "delta").collect())
    assert rows == sorted([("other", 2), (value, 10)])


@pytest.mark.spark
def test_read_table_sees_columns_added_later(spark, tmp_path):
    from lib.spark.io import read_table

    uri = (tmp_path / "evolving").as_uri()
    spark.createDataFrame([("2024-01-01", 1)], "day string, n int").write.partitionBy(
        "day"
    ).parquet(uri)
    spark.createDataFrame([("2024-01-02", 2, "new")], "day string, n int, extra string").write.mode(
        "append"
    ).partitionBy("day").parquet(uri)
    frame = read_table(spark, uri)
    assert "extra" in frame.columns
    assert sorted((row.n, row.extra) for row in frame.collect()) == [(1, None), (2, "new")]


@pytest.mark.spark
@pytest.mark.parametrize("fmt", ["parquet", "delta"])
def test_write_partitions_with_date_and_null_partition_values(spark, tmp_path, fmt):
    """Non-string partition values are the partitions' folder names, NULL is Hive's default
    partition: nothing just written is deleted, and a re-write replaces the NULL partition."""
    from datetime import date

    from lib.spark.io import read_table, write_partitions
    from lib.storage import LocalStore

    uri = (tmp_path / "by_day").as_uri()
    store = LocalStore(str(tmp_path / "by_day"))
    schema = "day date, n int"
    first = spark.createDataFrame([(date(2024, 1, 2), 1), (date(2024, 1, 3), 2), (None, 3)], schema)
    written = write_partitions(first, uri, "day", fmt=fmt, store=store)
    assert written == ["2024-01-02", "2024-01-03", "__HIVE_DEFAULT_PARTITION__"]
    rows = sorted((row.n, row.day) for row in read_table(spark, uri, fmt).collect())
    assert rows == [(1, date(2024, 1, 2)), (2, date(2024, 1, 3)), (3, None)]

    second = spark.createDataFrame([(None, 30), (date(2024, 1, 3), 20)], schema)
    write_partitions(second, uri, "day", fmt=fmt, store=store, values=[date(2024, 1, 3), None])
    rows = sorted((row.n, row.day) for row in read_table(spark, uri, fmt).collect())
    assert rows == [(1, date(2024, 1, 2)), (20, date(2024, 1, 3)), (30, None)]


@pytest.mark.spark
@pytest.mark.parametrize(
    ("schema", "old", "cleared"),
    [
        ("p string, n int", ["a/b", "a=b", "50%", "keep"], ["a/b", "a=b", "50%"]),
        ("p boolean, n int", [False, True], [False]),
        ("p timestamp, n int", ["2024-01-01 10:00:00", "2024-01-02 00:00:00"],
         ["2024-01-01 10:00:00"]),
    ],
)  # fmt: skip
@pytest.mark.parametrize("fmt", ["parquet", "delta"])
def test_clearing_partitions_whose_folder_names_spark_escapes(spark, tmp_path, fmt, schema, old,
                                                              cleared):  # fmt: skip
    """A partition with no rows left is cleared, also when Spark escapes its folder name
    (/, =, %, :) or writes it lower-case (booleans)."""
    from datetime import datetime

    from lib.spark.io import partition_text, read_table, write_partitions
    from lib.storage import LocalStore

    def typed(value):
        return datetime.fromisoformat(value) if "timestamp" in schema else value

    uri = (tmp_path / "t").as_uri()
    store = LocalStore(str(tmp_path / "t"))
    first = spark.createDataFrame([(typed(v), i) for i, v in enumerate(old)], schema)
    write_partitions(first, uri, "p", fmt=fmt, store=store)
    kept = [v for v in old if v not in cleared]
    second = spark.createDataFrame([(typed(v), 100) for v in kept], schema)
    write_partitions(second, uri, "p", fmt=fmt, store=store, values=[typed(v) for v in old])
    # compared as partition texts: Spark reads a Parquet boolean partition back as a string
    rows = sorted((partition_text(row.p), row.n) for row in read_table(spark, uri, fmt).collect())
    assert rows == sorted((partition_text(typed(v)), 100) for v in kept)
