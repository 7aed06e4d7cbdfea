"""Spark compiles each whole-stage pipeline to Java; HotSpot does not JIT-compile a method of
more than 8,000 bytes of bytecode (-XX:+DontCompileHugeMethods, on by default), so such a
stage runs interpreted. The parse stage of the report's pass is one method of about 7,700 bytes:
a fast path added to it once took it to 8,321 bytes and made the pass twice as slow, with every
test still green. This guard fails before that happens again, on both passes over the CSVs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest

from jobs.xetra.job import read_quarantine, report_plan
from jobs.xetra.transform import HEADER
from lib.storage import LocalStore

pytestmark = pytest.mark.spark
JIT_LIMIT = 8000  # HotSpot's HugeMethodLimit, in bytes of bytecode
ROW = '"DE0005190003","BMW","BMW AG ST","Common stock","EUR",2504287,"2024-01-04","08:00",80,81,79,80.5,100,3'  # noqa: E501


@contextmanager
def adaptive_execution_off(spark) -> Iterator[None]:
    """Plans without AQE (its plan wraps the stages until it runs); the stages are the same."""
    key = "spark.sql.adaptive.enabled"
    before = spark.conf.get(key)
    spark.conf.set(key, "false")
    try:
        yield
    finally:
        spark.conf.set(key, before)


def largest_methods(spark, frame) -> dict[str, int]:
    """Per whole-stage codegen subtree of `frame`'s plan: its largest method, in bytes of
    bytecode (Spark compiles the generated class to measure it)."""
    debug = getattr(spark._jvm.org.apache.spark.sql.execution.debug, "package$")
    subtrees = debug.__getattr__("MODULE$").codegenStringSeq(
        frame._jdf.queryExecution().executedPlan()
    )
    sizes = {}
    iterator = subtrees.iterator()
    while iterator.hasNext():
        subtree = iterator.next()
        sizes[subtree._1().splitlines()[0][:100]] = subtree._3().maxMethodCodeSize()
    return sizes


@pytest.mark.parametrize("per_partition", [False, True])
def test_every_stage_of_both_passes_stays_within_the_jit_limit(spark, tmp_path, per_partition):
    day = tmp_path / "2024-01-04"
    day.mkdir()
    (day / "2024-01-04_BINS_XETR08.csv").write_text(f"{HEADER}\n{ROW}\n")
    files = list(LocalStore(str(tmp_path)).list("2024-01-04/"))
    dates = [date(2024, 1, 4)]

    with adaptive_execution_off(spark):
        report, _, _ = report_plan(spark, tmp_path.as_uri(), files, dates, 14, per_partition)
        quarantine = read_quarantine(spark, tmp_path.as_uri(), files, dates)
        sizes = largest_methods(spark, report) | largest_methods(spark, quarantine)

    parse = [size for subtree, size in sizes.items() if "Project" in subtree]
    assert parse and max(parse) > 1000, sizes  # the parse stages were measured
    too_large = {subtree: size for subtree, size in sizes.items() if size > JIT_LIMIT}
    assert not too_large, f"generated methods HotSpot would not compile: {too_large}"
