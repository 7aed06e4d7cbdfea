"""The bench's Spark floor (plain Spark, no checks) computes the job's report: on two real days
its Parquet output, read with pyarrow, equals what the job wrote."""

from __future__ import annotations

from datetime import date

import pytest

from jobs.xetra.__main__ import main

pytestmark = pytest.mark.spark


def test_the_spark_floor_writes_the_jobs_report(spark, shared_data, tmp_path):
    pytest.importorskip("pandas")
    from tooling.bench.xetra import LOOKBACK, files_for, read_partitioned, read_report
    from tooling.bench.xetra_peers import check_equal, write_spark_report

    xetra = shared_data / "xetra"
    start, end = date(2017, 7, 3), date(2017, 7, 4)
    target = tmp_path / "lake"
    code = main(["--env", "local", "--source", xetra.as_uri(), "--target", target.as_uri(),
                 "--start", start.isoformat(), "--end", end.isoformat(),
                 "--set", "logging.log_path="])  # fmt: skip
    assert code == 0
    expected = read_report(target)
    assert len(expected) > 1000

    floor = tmp_path / "floor"
    write_spark_report(spark, files_for(xetra, start, end), start, end, LOOKBACK, floor)
    assert check_equal("spark floor", expected, read_partitioned(floor)) == len(expected)
    assert sorted(path.name for path in floor.glob("trade_date=*")) == [
        "trade_date=2017-07-03", "trade_date=2017-07-04"]  # fmt: skip
