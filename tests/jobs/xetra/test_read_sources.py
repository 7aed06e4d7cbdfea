"""The job reads only hour files of the PDS layout, so the file name of each row needs no
check of its own (``with_file_date(names_checked=True)``)."""

from __future__ import annotations

import pytest

from jobs.xetra.job import XetraJobError, read_sources
from jobs.xetra.transform import with_file_date
from lib.storage import StoredObject

pytestmark = pytest.mark.spark


@pytest.mark.parametrize(
    "key",
    ["2024-01-04/notes.csv", "2024-01-04/2024-01-04_BINS_XETR8.csv", "2024-01-04_BINS_XETR08.csv",
     "2024-01-04/2024-01-04_BINS_XETR0\u0668.csv"],  # an Arabic-Indic digit
)  # fmt: skip
def test_a_file_outside_the_layout_is_refused_before_spark_reads_it(spark, tmp_path, key):
    with pytest.raises(XetraJobError, match="not an hour file of the PDS layout"):
        read_sources(spark, tmp_path.as_uri(), [StoredObject(key, 1, '"x"', "")])


def test_checked_names_give_the_dates_and_hours_the_pattern_gives(spark):
    names = [
        "s3a://pds/2024-01-04/2024-01-04_BINS_XETR08.csv",
        "file:///data/2017-07-31/2017-07-31_BINS_XETR23.csv",
        "2024-02-29_BINS_XETR00.csv",
    ]
    frame = spark.createDataFrame([(name,) for name in names], "source_file string")
    checked = frame.transform(with_file_date, names_checked=True).collect()
    matched = frame.transform(with_file_date).collect()
    assert checked == matched
    assert all(row.file_date is not None and row.file_hour is not None for row in checked)
    # without the caller's check, other names give nulls (the job never reads them)
    other = spark.createDataFrame([("s3a://pds/2024-01-04/notes.csv",)], "source_file string")
    [row] = other.transform(with_file_date).collect()
    assert (row.file_date, row.file_hour) == (None, None)
