"""Spark compiles each whole-stage pipeline to Java; HotSpot does not JIT-compile a method of
more than 8,000 bytes of bytecode (-XX:+DontCompileHugeMethods, on by default), so such a
stage runs interpreted. The parse stages of both passes over the CSVs are single methods of
7,300-7,400 bytes: a fast path added to the parse once took it to 8,321 bytes and made the pass
twice as slow, with every test still green, and a date filter of 2-10 dates written into the
quarantine's parse stage (one comparison per date) took it over too. This guard fails before
that happens again, for runs of 1 to 11 dates (Spark turns 11 or more into one set lookup)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from jobs.xetra.job import (
    deduplicated_figures,
    figures_plan,
    read_quarantine,
    register_line_parser,
    report_plan,
)
from jobs.xetra.transform import HEADER, PRICES
from lib.storage import LocalStore

pytestmark = pytest.mark.spark
JIT_LIMIT = 8000  # HotSpot's HugeMethodLimit, in bytes of bytecode
ROW = '"DE0005190003","BMW","BMW AG ST","Common stock","EUR",2504287,"2024-01-04","08:00",80,81,79,80.5,100,3'  # noqa: E501


def codegen_subtrees(session, frame) -> list:
    """The whole-stage codegen subtrees of `frame`'s plan, in plan order: Spark's (tree text,
    generated code, bytecode stats) triples (the class is compiled to measure it)."""
    debug = getattr(session._jvm.org.apache.spark.sql.execution.debug, "package$")
    subtrees = debug.__getattr__("MODULE$").codegenStringSeq(
        frame._jdf.queryExecution().executedPlan()
    )
    found = []
    iterator = subtrees.iterator()
    while iterator.hasNext():
        found.append(iterator.next())
    return found


def largest_methods(session, frame) -> list[tuple[str, int]]:
    """Per whole-stage codegen subtree of `frame`'s plan, in plan order: its first line and its
    largest method, in bytes of bytecode."""
    return [(subtree._1().splitlines()[0][:100], subtree._3().maxMethodCodeSize())
            for subtree in codegen_subtrees(session, frame)]  # fmt: skip


def both_passes(spark, tmp_path, run_dates: int, per_partition: bool):
    """The report's and the quarantine's plans over one hour file, for `run_dates` dates, in a
    session of their own: AQE off (its plan hides the stages until it runs), and the
    observations these plans register (never run) stay out of the tests' session."""
    day = tmp_path / "2024-01-04"
    day.mkdir()
    (day / "2024-01-04_BINS_XETR08.csv").write_text(f"{HEADER}\n{ROW}\n")
    files = list(LocalStore(str(tmp_path)).list("2024-01-04/"))
    dates = [date(2024, 1, 4) + timedelta(days=offset) for offset in range(run_dates)]
    session = spark.newSession()
    session.conf.set("spark.sql.adaptive.enabled", "false")
    figures, _ = figures_plan(session, tmp_path.as_uri(), files, dates, per_partition)
    report, _ = report_plan(figures, dates, 14)
    again, _ = report_plan(deduplicated_figures(session, tmp_path.as_uri(), files, dates)[0],
                           dates, 14)  # fmt: skip
    quarantine = read_quarantine(session, tmp_path.as_uri(), files, dates)
    passes = [("report", report), ("deduplicated", again), ("quarantine", quarantine)]
    parser = register_line_parser(session)
    assert parser is not None, "the jobs' jar is not on the class path: make setup builds it"
    lines, _ = figures_plan(session, tmp_path.as_uri(), files, dates, per_partition, parser)
    return session, (*passes, ("lines", report_plan(lines, dates, 14)[0]))


@pytest.mark.parametrize("per_partition", [False, True])
@pytest.mark.parametrize("run_dates", [1, 2, 10, 11])
def test_every_stage_of_both_passes_stays_within_the_jit_limit(
    spark, tmp_path, per_partition, run_dates
):
    session, passes = both_passes(spark, tmp_path, run_dates, per_partition)
    for what, frame in passes:
        sizes = largest_methods(session, frame)
        # the parse (the first stage, reading the CSVs) was measured, not skipped
        assert sizes and sizes[0][0].startswith("*(1) ") and sizes[0][1] > 1000, (what, sizes)
        too_large = [(subtree, size) for subtree, size in sizes if size > JIT_LIMIT]
        assert not too_large, f"{what}: generated methods HotSpot would not compile: {too_large}"


def test_each_price_is_parsed_once_per_row(spark, tmp_path):
    """The parse stage turns each price's text into a double once: a guard on the cast value
    in the same expression made Spark parse it twice (a condition and the value it guards share
    an expression only when both always run), 4 of 8 parses per row wasted."""
    session, passes = both_passes(spark, tmp_path, 1, False)
    for what, frame in passes[:3]:  # the passes through Spark's CSV reader and parse_trades
        subtrees = codegen_subtrees(session, frame)
        assert subtrees, what  # AQE off: the plan's stages are there to read
        parse_code = subtrees[0]._2()  # the first stage: reading and parsing the CSVs
        assert parse_code.count("Double.valueOf(") == len(PRICES), what
