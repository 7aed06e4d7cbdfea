"""Property-based bad input for the Xetra parser: corrupt real-format rows, lose nothing.

Files are written as the PDS writes them, damaged by hypothesis (missing fields, bad numbers,
wrong dates, stray quotes, negative values, duplicated and truncated lines), then read by the
job's own reader. Whatever the damage: rows read = used + duplicates + quarantined, the run does
not fail, and every undamaged row is used (or counted as a duplicate of an identical one).
"""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.xetra.job import read_lines, read_sources, register_line_parser
from jobs.xetra.transform import LINE_HEADER, dedupe_trades, parse_trades, with_file_date
from lib.storage import StoredObject
from tests.jobs.xetra.test_line_parser import assert_parser_agrees, exact_values
from tooling.generators.xetra import day_files

pytestmark = pytest.mark.spark
DAY = date(2024, 1, 4)
KEY = f"{DAY}/{DAY}_BINS_XETR09.csv"


def base_rows() -> tuple[str, list[str]]:
    text = dict(day_files(DAY, count=4, trades_per_hour=6))[KEY]
    header, *rows = text.splitlines()
    return header, rows


MUTATIONS = (
    "drop_field",
    "extra_field",
    "bad_number",
    "bad_date",
    "other_date",
    "stray_quote",
    "negative",
    "min_above_max",
    "blank_isin",
    "duplicate",
    "truncate",
    "huge_price",
    "huge_count",
    "bad_currency",
)


def mutate(line: str, kind: str) -> list[str]:
    fields = next(csv.reader([line]))
    if kind == "duplicate":
        return [line, line]
    if kind == "truncate":
        return [line[: max(1, len(line) // 2)]]
    if kind == "stray_quote":
        return [line.replace(",", ',"', 1)]
    if kind == "drop_field":
        fields.pop(3)
    elif kind == "extra_field":
        fields.append("surplus")
    elif kind == "bad_number":
        fields[8] = "12,5x"
    elif kind == "bad_date":
        fields[6] = "2024-13-45"
    elif kind == "other_date":
        fields[6] = "2024-01-05"
    elif kind == "negative":
        fields[12] = "-7"
    elif kind == "min_above_max":
        fields[10] = str(float(fields[9]) + 1)
    elif kind == "blank_isin":
        fields[0] = ""
    elif kind == "huge_price":
        fields[9] = "1e400"  # MaxPrice beyond a double
    elif kind == "bad_currency":
        fields[4] = "Euro"  # not an ISO 4217 code
    elif kind == "huge_count":
        fields[12] = "9" * 19  # TradedVolume beyond a long
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(fields)
    return [buffer.getvalue()]


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_every_row_is_accounted_for_and_good_rows_are_kept(spark, tmp_path_factory, data):
    header, rows = base_rows()
    damage = data.draw(
        st.dictionaries(
            st.integers(0, len(rows) - 1), st.sampled_from(MUTATIONS), max_size=len(rows) // 2
        )
    )
    lines, untouched = [], []
    for index, row in enumerate(rows):
        if index in damage:
            lines += mutate(row, damage[index])
        else:
            lines.append(row)
            untouched.append(row)
    root = tmp_path_factory.mktemp("pds")
    path = root / KEY
    path.parent.mkdir(parents=True)
    body = "\n".join([header, *lines]) + "\n"
    path.write_text(body)
    item = StoredObject(KEY, len(body), "x", path.as_uri())

    parsed = (
        read_sources(spark, root.as_uri(), [item]).transform(with_file_date).transform(parse_trades)
    )
    rows = parsed.select("reject_reason").collect()
    # the JVM line parser takes, of the same lines, only good rows with the same values
    lines_read = read_lines(spark, root.as_uri(), [item], register_line_parser(spark)).collect()
    assert lines_read[0]["status"] == LINE_HEADER
    assert_parser_agrees(lines_read[1:], exact_values(parsed).collect())
    used = parsed.transform(dedupe_trades).select("isin", "minute", "copies").collect()
    quarantined = sum(1 for row in rows if row.reject_reason is not None)
    # every line but the header is a row: used, a duplicate or quarantined (with a reason)
    assert len(rows) == len(lines)
    assert len(rows) == len(used) + sum(r.copies - 1 for r in used) + quarantined
    # no undamaged row is lost: each is used, or a duplicate of a used identical key
    used_keys = {(r.isin, r.minute) for r in used}
    for row in untouched:
        fields = next(csv.reader([row]))
        hours, minutes = fields[7].strip(" ").split(":")  # the de-duplication's minute
        assert (fields[0], int(hours) * 60 + int(minutes)) in used_keys
