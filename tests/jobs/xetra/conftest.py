"""Helpers for the Xetra tests: raw rows as the reader produces them."""

from __future__ import annotations

import pytest
from pyspark.sql.types import StringType, StructField, StructType

from jobs.xetra.transform import CORRUPT_COLUMN, RAW_SCHEMA, SOURCE_COLUMNS, with_file_date

GOOD = {
    "ISIN": "DE0005190003",
    "Mnemonic": "BMW",
    "SecurityDesc": "BAY.MOTOREN WERKE AG ST",
    "SecurityType": "Common stock",
    "Currency": "EUR",
    "SecurityID": "2504287",
    "Date": "2017-07-03",
    "Time": "08:00",
    "StartPrice": "80",
    "MaxPrice": "81",
    "MinPrice": "79.5",
    "EndPrice": "80.5",
    "TradedVolume": "100",
    "NumberOfTrades": "3",
}


def source_file(day: str, hour: int = 8) -> str:
    return f"s3a://pds/{day}/{day}_BINS_XETR{hour:02d}.csv"


@pytest.fixture
def raw_rows(spark):
    """raw_rows([{field: value, ...}, ...], file=None) -> DataFrame shaped like read_sources."""

    def make(rows, corrupt=None):
        records = []
        for index, overrides in enumerate(rows):
            row = {**GOOD, **overrides}
            day = row.pop("_file_day", row["Date"])
            hour = row.pop("_file_hour", 8)
            values = [row[name] for name in SOURCE_COLUMNS]
            bad = corrupt[index] if corrupt else None
            records.append((*values, bad, source_file(day, hour)))
        schema = StructType([*RAW_SCHEMA.fields, StructField("source_file", StringType())])
        frame = spark.createDataFrame(records, schema)
        assert CORRUPT_COLUMN in frame.columns
        return frame.transform(with_file_date)

    return make
