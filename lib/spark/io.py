"""Table readers and writers (Parquet and Delta) that replace exactly the partitions written.

    write_partitions(report, "s3://lake/daily_report", "trade_date", fmt="parquet")
    read_table(spark, "s3://lake/daily_report", fmt="delta")

Re-running a write for the same partition values gives the same table (idempotent):

* Delta: ``mode("overwrite")`` with ``replaceWhere`` on the partition values written, one atomic
  commit.
* Parquet through an S3A committer (the local profile's magic committer): Spark refuses dynamic
  partition overwrite with S3A committers, so the write uses S3A's *partitioned* staging
  committer with conflict mode ``replace``: each partition the job writes is replaced at job
  commit, the others are left alone.
* Parquet anywhere else (``file://``, EMRFS on EMR, Glue): dynamic partition overwrite
  (``partitionOverwriteMode=dynamic``) through the platform's commit protocol (EMR's
  S3-optimized one), or Spark's default one for local ``file://`` paths.

Writing an empty DataFrame replaces nothing by nothing: without `values` it changes nothing;
with `values` those partitions are cleared. A Parquet write of a frame whose plan says it is
empty (``empty_frame``) runs no job and creates no table folder.
"""

from __future__ import annotations

import datetime
import json
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, Literal

from pyspark.sql import Column, DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from lib.storage import ObjectStore

LOG = logging.getLogger(__name__)
OBSERVATION_TIMEOUT_SECONDS = 60.0
AQE_EMPTY_RELATION_RULE = "org.apache.spark.sql.execution.adaptive.AQEPropagateEmptyRelation"

TableFormat = Literal["parquet", "delta"]
DEFAULT_COMMIT_PROTOCOL = (
    "org.apache.spark.sql.execution.datasources.SQLHadoopMapReduceCommitProtocol"
)
CLOUD_COMMIT_PROTOCOL = "org.apache.spark.internal.io.cloud.PathOutputCommitProtocol"


def _uses_s3a_committer(spark: SparkSession, uri: str) -> bool:
    protocol = spark.conf.get("spark.sql.sources.commitProtocolClass", None)
    scheme = uri.split("://", 1)[0] if "://" in uri else "file"
    if protocol != CLOUD_COMMIT_PROTOCOL:
        return False
    factory = spark.sparkContext._jsc.hadoopConfiguration().get(
        f"mapreduce.outputcommitter.factory.scheme.{scheme}"
    )
    return bool(factory) and "S3ACommitterFactory" in factory


@contextmanager
def _runtime_conf(spark: SparkSession, key: str, value: str) -> Iterator[None]:
    """Temporarily set a runtime SQL setting of the session (restored, or unset, after)."""
    previous = spark.conf.get(key, None)
    spark.conf.set(key, value)
    try:
        yield
    finally:
        if previous is None:
            spark.conf.unset(key)
        else:
            spark.conf.set(key, previous)


def _commit_protocol(spark: SparkSession, protocol: str) -> AbstractContextManager[None]:
    """Temporarily use another commit protocol for one write."""
    return _runtime_conf(spark, "spark.sql.sources.commitProtocolClass", protocol)


def _spark_string_literal(text: str) -> str:
    """A Spark SQL string literal: Spark's lexer takes backslash escapes, not doubled quotes."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"  # the folder Spark writes NULL partition values to


def partition_text(value: Any) -> str:
    """A partition value as Spark casts it to text: ``2024-01-02`` for a date, ``true`` for a
    boolean, ``2024-01-02 10:00:00`` for a timestamp, Hive's name for NULL."""
    if value is None:
        return NULL_PARTITION
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        text = value.isoformat(sep=" ")
        return text.rstrip("0").rstrip(".") if value.microsecond else text
    return str(value)


# the characters Spark escapes in partition folder names (ExternalCatalogUtils.escapePathName)
_ESCAPED = frozenset([chr(code) for code in range(1, 32)] + list("\"#%'*/:=?\\\x7f{[]^"))


def partition_folder(column: str, value: Any) -> str:
    """The folder Spark writes the partition to: ``column=<text, escaped as Spark does>``."""
    text = partition_text(value)
    if text != NULL_PARTITION:
        text = "".join(f"%{ord(c):02X}" if c in _ESCAPED else c for c in text)
    return f"{column}={text}"


def replace_where_predicate(column: str, values: Sequence[Any]) -> str:
    """``trade_date IN ('2024-01-02', ...)`` for Delta's replaceWhere (values are quoted; the
    NULL partition, as None or its folder name, becomes ``OR trade_date IS NULL``)."""
    if not column.replace("_", "").isalnum():
        raise ValueError(f"not a plain column name: {column!r}")
    texts = [partition_text(value) for value in values]
    quoted = ", ".join(
        text if isinstance(value, bool) else _spark_string_literal(text)  # true, not 'true'
        for value, text in zip(values, texts, strict=True)
        if text != NULL_PARTITION
    )
    conditions = [f"`{column}` IN ({quoted})"] if quoted else []
    if NULL_PARTITION in texts:
        conditions.append(f"`{column}` IS NULL")
    return " OR ".join(conditions)


def write_partitions(
    frame: DataFrame,
    uri: str,
    partition_column: str,
    fmt: TableFormat = "parquet",
    values: Sequence[Any] | None = None,
    store: ObjectStore | None = None,
) -> list[str]:
    """Replace the partitions `values` of `uri` with the rows of `frame`; returns the values
    that now hold rows, as their folder names (``partition_text``: a date as 2024-01-02, NULL as
    Hive's default partition).

    Without `values`, the partitions are those `frame` holds. A value in `values` that `frame`
    has no rows for is cleared: Delta does it in the same commit (replaceWhere); for Parquet the
    partition's objects are deleted through `store` (an ObjectStore on `uri`) after the write.
    """
    if fmt not in ("parquet", "delta"):
        raise ValueError(f"unknown table format {fmt!r}; expected parquet or delta")
    spark = frame.sparkSession
    if fmt == "parquet" and _known_empty(frame):  # nothing to write: no job, no empty table
        _clear(store, partition_column, sorted({partition_text(value) for value in values or []}))
        return []
    if values is None:  # the partitions are those the frame holds: one pass to find them
        typed = _partitions_held(frame, partition_column)
        present = sorted(typed)
        if not present:
            return []
        written = None
    else:  # the partitions written are observed during the write itself (no pass of its own)
        typed = {partition_text(value): value for value in values}  # booleans stay booleans
        if not typed:
            return []
        written = Observation()
        frame = frame.observe(written, _partition_texts(partition_column).alias("partitions"))
    values = sorted(typed)
    with observable(spark):  # every observation in the frame's plan survives an empty stage
        _write(frame, uri, partition_column, fmt, typed)
    if written is not None:
        metrics = observed(written)
        if metrics is None:  # Spark's optimizer removed the observation: count the partitions
            present = sorted(_partitions_held(frame, partition_column))
        else:
            present = sorted(json.loads(metrics["partitions"]))
    if fmt == "parquet":
        _clear(store, partition_column, [value for value in values if value not in present])
    return present


def empty_frame(spark: SparkSession, schema: Any) -> DataFrame:
    """A DataFrame with `schema` and no rows whose plan says so (a limit of 0 rows):
    ``write_partitions`` of it runs no job. (A plain ``createDataFrame([], schema)`` is an RDD
    of unknown size as far as Spark's planner knows.) No job runs over it, so an observation
    placed on it never completes (``observed`` gives None after its wait)."""
    return spark.createDataFrame([], schema).limit(0)


def _known_empty(frame: DataFrame) -> bool:
    """Whether `frame`'s plan says it has at most 0 rows (``empty_frame``, a limit 0, an empty
    local relation), from the analyzed plan (no optimization, no job)."""
    try:
        rows = frame._jdf.queryExecution().analyzed().maxRows()
        return bool(rows.isDefined() and rows.get() == 0)
    except Exception:  # not a classic JVM-backed DataFrame: not known
        return False


def _partitions_held(frame: DataFrame, column: str) -> dict[str, Any]:
    """The partition values `frame` holds, by folder text (booleans stay booleans): one pass."""
    distinct = [row[0] for row in frame.select(column).distinct().collect()]
    return {partition_text(value): value for value in distinct}


def _write(
    frame: DataFrame, uri: str, partition_column: str, fmt: str, typed: dict[str, Any]
) -> None:
    spark = frame.sparkSession
    if fmt == "delta":
        (
            frame.write.format("delta")
            .mode("overwrite")
            .option("replaceWhere", replace_where_predicate(partition_column, list(typed.values())))
            .partitionBy(partition_column)
            .save(uri)
        )
    elif fmt == "parquet":
        if _uses_s3a_committer(spark, uri):
            (
                frame.write.mode("append")
                .option("fs.s3a.committer.name", "partitioned")
                .option("fs.s3a.committer.staging.conflict-mode", "replace")
                .partitionBy(partition_column)
                .parquet(uri)
            )
        else:
            writer = (
                frame.write.mode("overwrite")
                .option("partitionOverwriteMode", "dynamic")
                .partitionBy(partition_column)
            )
            current = spark.conf.get("spark.sql.sources.commitProtocolClass", None)
            if current == CLOUD_COMMIT_PROTOCOL:
                # the local profile's cloud protocol on a non-S3A path (file://): its
                # FileOutputCommitter path would append instead of replacing (SPARK-56588)
                with _commit_protocol(spark, DEFAULT_COMMIT_PROTOCOL):
                    writer.parquet(uri)
            else:  # the platform's own protocol (EMRFS S3-optimized on EMR) stays
                writer.parquet(uri)


@contextmanager
def job_description(spark: SparkSession, text: str) -> Iterator[None]:
    """The Spark jobs started inside are described as `text` (Spark's UI, event log, the
    bench's stage table); the previous description is restored after."""
    context = spark.sparkContext
    previous = context.getLocalProperty("spark.job.description")
    context.setJobDescription(text)
    try:
        yield
    finally:
        context.setJobDescription(previous)  # type: ignore[arg-type]


def observable(spark: SparkSession) -> AbstractContextManager[None]:
    """Actions inside keep every observed node of their plan: adaptive execution does not
    replace the plan above a stage that turned out empty (AQEPropagateEmptyRelation), which
    would drop the observations of the stages below it with it (Spark 3.5)."""
    key = "spark.sql.adaptive.optimizer.excludedRules"
    rules = [rule for rule in (spark.conf.get(key, None) or "").split(",") if rule]
    if AQE_EMPTY_RELATION_RULE in rules:
        return nullcontext()
    return _runtime_conf(spark, key, ",".join([*rules, AQE_EMPTY_RELATION_RULE]))


def observed(
    observation: Observation, timeout_seconds: float = OBSERVATION_TIMEOUT_SECONDS
) -> dict[str, Any] | None:
    """The metrics of `observation` once the action that ran its DataFrame has finished; None
    when they do not come within `timeout_seconds`.

    Spark hands the metrics over on its listener bus, shortly after the action returned. When
    its optimizer removed the observed node (it does over a relation it proves empty, e.g. a
    filter that is always false), they never come and ``Observation.get`` would wait for ever
    (Spark 3.5); this waits in a daemon thread instead, and the caller counts another way."""
    result: list[dict[str, Any]] = []
    waiter = threading.Thread(
        target=lambda: result.append(observation.get), name="observation", daemon=True
    )
    waiter.start()
    waiter.join(timeout_seconds)
    if not result:
        LOG.warning("no observed metrics %s s after the action: counting another way",
                    timeout_seconds)  # fmt: skip
        return None
    return result[0]


def _partition_texts(column: str) -> Column:
    """The distinct partition values of `column` as the folder texts Spark writes (a JSON list;
    NULL as Hive's default partition), an aggregate for ``DataFrame.observe``."""
    text = F.coalesce(F.col(column).cast("string"), F.lit(NULL_PARTITION))
    return F.to_json(F.collect_set(text))


def _clear(store: ObjectStore | None, column: str, values: Sequence[str]) -> None:
    """Parquet: a partition that now has no rows must not keep the rows of an earlier write."""
    if not values:
        return
    if store is None:
        raise ValueError(f"clearing partitions {list(values)} of a Parquet table needs a store")
    for value in values:
        store.delete_prefix(partition_folder(column, value) + "/")


def read_table(spark: SparkSession, uri: str, fmt: TableFormat = "parquet") -> DataFrame:
    if fmt == "delta":
        return spark.read.format("delta").load(uri)
    if fmt == "parquet":
        # columns added by later writes are read too (absent in older files: NULL)
        return spark.read.option("mergeSchema", "true").parquet(uri)
    raise ValueError(f"unknown table format {fmt!r}; expected parquet or delta")
