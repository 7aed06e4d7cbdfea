"""The job reads only hour files of the PDS layout, so the file name of each row needs no
check of its own (``with_file_date(names_checked=True)``)."""

from __future__ import annotations

import json

import pytest

from jobs.xetra.__main__ import main
from jobs.xetra.job import XetraJobError, read_sources
from jobs.xetra.transform import HEADER, with_file_date
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


def test_a_linked_hour_file_is_read_under_its_key_with_a_plain_path_source(spark, tmp_path):
    """Each file is named to Spark by its key under the source root: resolved with its path,
    a linked file was named by its target, and its rows dated by the target's name (here
    another date's: left out of every count, silently)."""
    row = '"DE0005190003","BMW","BMW AG ST","Common stock","EUR",2504287,"2024-01-04","{}",80,81,79,80.5,100,3'  # noqa: E501
    day = tmp_path / "pds/2024-01-04"
    day.mkdir(parents=True)
    (day / "2024-01-04_BINS_XETR08.csv").write_text(f"{HEADER}\n{row.format('08:00')}\n")
    target = tmp_path / "elsewhere/2024-01-03_BINS_XETR10.csv"
    target.parent.mkdir()
    target.write_text(f"{HEADER}\n{row.format('09:00')}\n")
    (day / "2024-01-04_BINS_XETR09.csv").symlink_to(target)
    lake = tmp_path / "lake"
    arguments = ["--source", str(tmp_path / "pds"), "--target", lake.as_uri(),
                 "--start", "2024-01-04", "--end", "2024-01-04"]  # fmt: skip
    code = main(["--env", "local", *arguments, "--set", "logging.log_path="])
    assert code == 0
    [summary] = [json.loads(path.read_text()) for path in (lake / "_state/xetra/runs").glob("*")]
    assert summary["rows"]["read"] == summary["rows"]["used"] == 2
