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


@pytest.mark.spark
@pytest.mark.parametrize("fmt", ["parquet", "delta"])
def test_write_partitions_keeps_observations_when_a_stage_turns_out_empty(spark, tmp_path, fmt):
    """The partitions written are observed during the write, and so are the caller's own
    observations: when a shuffled stage turns out empty at run time, adaptive execution would
    drop the plan above it and every observation below it (the caller's Observation then
    never completes); the partitions that got nothing are cleared."""
    from pyspark.sql import Observation
    from pyspark.sql import functions as F

    from lib.spark.io import observed, read_table, write_partitions
    from lib.storage import LocalStore

    uri = (tmp_path / "t").as_uri()
    store = LocalStore(uri)
    first = spark.createDataFrame([("a", 1), ("b", 2)], "key string, n int")
    assert write_partitions(first, uri, "key", fmt, values=["a", "b"], store=store) == ["a", "b"]
    rows = Observation()
    total = F.sum("n").cast("int").alias("n")
    nothing = (
        first.observe(rows, F.count(F.lit(1)).alias("rows"))
        .repartition(3, "key")
        .groupBy("key")
        .agg(total)
        .where("n > 5")
        .repartition("key")  # a stage of its own, empty
    )
    assert write_partitions(nothing, uri, "key", fmt, values=["a"], store=store) == []
    assert observed(rows, timeout_seconds=10) == {"rows": 2}
    assert [row.key for row in read_table(spark, uri, fmt).collect()] == ["b"]


@pytest.mark.spark
def test_an_observation_the_optimizer_removed_gives_none_instead_of_waiting(spark):
    from pyspark.sql import Observation
    from pyspark.sql import functions as F

    from lib.spark.io import observed

    seen = Observation()
    frame = spark.range(3).withColumn("a", F.lit("x")).observe(seen, F.count(F.lit(1)).alias("n"))
    frame.where("a is null").write.format("noop").mode("overwrite").save()  # proved empty
    assert observed(seen, timeout_seconds=2) is None
    kept = Observation()
    spark.range(3).observe(kept, F.count(F.lit(1)).alias("n")).write.format("noop").mode(
        "overwrite"
    ).save()
    assert observed(kept, timeout_seconds=30) == {"n": 3}


@pytest.mark.spark
def test_a_parquet_write_of_a_known_empty_frame_runs_no_job_and_only_clears(spark, tmp_path):
    from lib.spark.io import empty_frame, read_table, write_partitions
    from lib.storage import LocalStore

    empty = empty_frame(spark, "key string, n int")
    fresh = tmp_path / "fresh"
    assert (
        write_partitions(empty, fresh.as_uri(), "key", values=["a"], store=LocalStore(str(fresh)))
        == []
    )
    assert not fresh.exists()  # no empty table folder (a quarantine on a clean run stays absent)

    uri, store = (tmp_path / "t").as_uri(), LocalStore(str(tmp_path / "t"))
    rows = spark.createDataFrame([("a", 1), ("b", 2)], "key string, n int")
    write_partitions(rows, uri, "key", values=["a", "b"], store=store)
    jobs_before = len(spark.sparkContext.statusTracker().getJobIdsForGroup())
    assert write_partitions(empty, uri, "key", values=["a"], store=store) == []
    assert len(spark.sparkContext.statusTracker().getJobIdsForGroup()) == jobs_before
    assert [row.key for row in read_table(spark, uri).collect()] == ["b"]


@pytest.mark.spark
@pytest.mark.parametrize("fmt", ["parquet", "delta"])
def test_local_folders_whose_names_a_uri_escapes(spark, tmp_path, fmt):
    """A local path with a space, % and # is read and written where it is: spark_uri and
    LocalStore give Hadoop the path as it is (Path.as_uri() would give my%20dir, which Hadoop
    takes literally), and LocalStore reads its own root back."""
    from lib.spark.io import read_table, write_partitions
    from lib.storage import LocalStore, spark_uri

    folder = tmp_path / "my dir %20 #1"
    store = LocalStore(str(folder))
    store.write_text("in/a b.csv", "k,n\nx,1\ny,2\n")
    assert [item.key for item in LocalStore(store.root).list()] == ["in/a b.csv"]
    listed = next(iter(store.list()))
    rows = spark.read.csv(spark_uri(listed.uri), header=True, schema="k string, n int").collect()
    assert sorted((row.k, row.n) for row in rows) == [("x", 1), ("y", 2)]

    table = spark_uri(str(folder / "table"))
    frame = spark.createDataFrame([("x", 1), ("y", 2)], "k string, n int")
    written = write_partitions(frame, table, "k", fmt=fmt, store=LocalStore(table))
    assert written == ["x", "y"]
    assert sorted((folder / "table").iterdir())[-1].name == "k=y"  # where it was asked for
    assert sorted((r.k, r.n) for r in read_table(spark, table, fmt).collect()) == [
        ("x", 1),
        ("y", 2),
    ]


@pytest.mark.parametrize("name", ["g?src", "st*r", "br[1]", "br{a,b}", "back\\slash"])
def test_paths_spark_would_read_as_patterns_are_refused(tmp_path, name):
    """Spark globs every path it reads: "g?src" also reads "gXsrc", "br[1]" reads "br1" only.
    Such a path is refused with the characters named, local or on S3."""
    from lib.storage import spark_uri

    for uri in (str(tmp_path / name), f"s3://bucket/{name}/x.csv"):
        with pytest.raises(ValueError, match="glob pattern"):
            spark_uri(uri)
    assert spark_uri(str(tmp_path / "plain; ~&=$ü")).startswith("file:///")


def test_a_file_uri_is_file_triple_slash_or_refused():
    from lib.storage import LocalStore

    assert str(LocalStore("file:///tmp/x").path) == "/tmp/x"
    for uri in ("file:/tmp/x", "file://localhost/tmp/x"):
        with pytest.raises(ValueError, match="file:///absolute/path"):
            LocalStore(uri)
