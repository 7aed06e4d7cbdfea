"""The JVM line parser (jobs/xetra/java, the jobs' jar) against the rules it stands in for:
Spark's CSV reader and parse_trades. A line it takes must be a good row there with the same
values; every other line is left to those rules (its date read again), so a run gives the same
report, quarantine and counts with the parser as without it."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyspark.sql import functions as F

import jobs.xetra.job as xetra_job
from jobs.xetra.__main__ import main
from jobs.xetra.job import parsed_sources, read_lines, read_report, register_line_parser
from jobs.xetra.transform import (
    COUNTS,
    HEADER,
    LINE_HEADER,
    LINE_OTHER,
    LINE_TRADE,
    PRICES,
    currency_number,
    daily_figures_of_good_rows,
    daily_figures_of_trades,
    good_trades,
    line_trades,
    minute_of_day,
)
from lib.storage import LocalStore

pytestmark = pytest.mark.spark
DAY = "2024-01-04"
VALUES = ("isin", "trade_date", "minute", "start_price", "max_price", "min_price", "end_price",
          "traded_volume", "number_of_trades", "currency_number")  # fmt: skip
SHARED_XETRA = Path(__file__).resolve().parents[4] / "shared" / "data" / "xetra"


def good_fields(**changes: str) -> list[str]:
    fields = {
        "ISIN": '"DE0005190003"', "Mnemonic": '"BMW"', "SecurityDesc": '"BMW AG ST"',
        "SecurityType": '"Common stock"', "Currency": '"EUR"', "SecurityID": "2504287",
        "Date": DAY, "Time": "08:00", "StartPrice": "80", "MaxPrice": "81.25",
        "MinPrice": "79", "EndPrice": "80.5", "TradedVolume": "100", "NumberOfTrades": "3",
    }  # fmt: skip
    fields.update(changes)
    return list(fields.values())


def exact_values(parsed):
    """Per row of parse_trades' output: its reject reason and its values as the parser gives
    them (the time as its minute, the currency as its number, -0.0 made 0.0)."""
    return parsed.select(
        "reject_reason",
        F.col("raw.SecurityID").alias("marker"),
        "isin",
        "trade_date",
        minute_of_day("time").alias("minute"),
        *[(F.col(snake) + F.lit(0.0)).alias(snake) for _, snake in PRICES],
        *[snake for _, snake in COUNTS],
        currency_number("currency").alias("currency_number"),
    )


def taken_values(row) -> tuple:
    """A LINE_TRADE row's values in VALUES' order."""
    return (row["isin"], row["file_date"], *[row[value] for value in VALUES[2:]])


def assert_parser_agrees(fast_rows, exact_rows) -> None:
    """`fast_rows` (read_lines, one per line) and `exact_rows` (exact_values, one per line, in
    the same order: no header or blank line among them): every line the parser takes is a good
    row for the rules with the same values."""
    assert len(fast_rows) == len(exact_rows)
    for index, (fast, exact) in enumerate(zip(fast_rows, exact_rows, strict=True)):
        if fast["status"] == LINE_TRADE:
            assert exact["reject_reason"] is None, (index, exact)
            assert taken_values(fast) == tuple(exact[name] for name in VALUES), index
        else:
            assert fast["status"] == LINE_OTHER, (index, fast)


# field texts around the rules' edges: each may be good, bad, or good for the rules and left by
# the parser (spaces around, signs, exponents, quotes inside quotes, commas, non-ASCII)
TRICKY_TEXTS = (
    "", " ", '""', '" "', "-0", "-1", "+1", "1e3", "1E-2", ".5", "5.", ".", "1.2.3", "0x1p3",
    "NaN", "Infinity", "1d", " 12", "12 ", '"12"', '"1,5"', "1,5", '"A ""B"""', '"x"y', 'x"y',
    "08:00", "23:59", "24:00", "8:00", "08:60", DAY, "2024-01-05", '"2024-01-04"', "2024-1-4",
    "EUR", "eur", "EU", "EURO", '"USD"', " EUR", "DE0005190003", '" DE0005190003"', "é", "\t",
    "999999999999", "1000000000000", "999999999999999999", "1234567890123456789", "#x", "\\",
    "DE0005190003 ", '"DE0005190003 "', "Eur", "eUR", "E1R", "23:60", "00:00", "0", "00", "0.0",
    "-0.0", "0.", "1e", "e1", ".e1", "+0", "\u0661", "1_000", "1 000", "\u00a0", "\u2028", "\x7f",
    "\x00", "\ufeff08:00", '"08:00 "', "'EUR'", '"2024-01-04 "', "2024-01-04T00", "20240104",
)  # fmt: skip
TRICKY = st.sampled_from(TRICKY_TEXTS)


@st.composite
def lines(draw) -> str:
    shape = draw(st.integers(0, 9))
    if shape == 0:
        return draw(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255,
                                                   exclude_characters="\r\n\x85"),
                            max_size=40))  # fmt: skip
    names = HEADER.split(",")
    fields = good_fields()
    for _ in range(draw(st.integers(0 if shape > 3 else 1, 3))):
        fields[draw(st.integers(0, len(names) - 1))] = draw(TRICKY)
    if shape == 1:
        fields = fields[: draw(st.integers(0, len(fields)))]
    elif shape == 2:
        fields.append(draw(TRICKY))
    elif shape == 3:
        return ",".join(f'"{name}"' for name in names)  # a quoted header: a header to Spark
    return ",".join(fields)


def read_both(spark, root: Path, texts: list[str]):
    """Each text in an hour file of its own (so that each file holds one line): the good rows'
    values per file through Spark's CSV reader and parse_trades, and the parser's rows."""
    for index, text in enumerate(texts):
        day = dt.date(2024, 1, 4) + dt.timedelta(days=index // 100)
        path = root / day.isoformat() / f"{day.isoformat()}_BINS_XETR{index % 100:02d}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
    files = sorted(LocalStore(str(root)).list(""), key=lambda item: item.key)
    parser = register_line_parser(spark)
    assert parser is not None, "the jobs' jar is not on the class path: make setup builds it"
    parsed = parsed_sources(spark, root.as_uri(), files)
    exact = {row["source_file"]: row for row in parsed.select("source_file", "reject_reason")
             .collect()}  # fmt: skip
    good = {row["source_file"]: tuple(row[name] for name in VALUES)
            for row in good_trades(parsed, F.col("source_file")).collect()}  # fmt: skip
    fast = read_lines(spark, root.as_uri(), files, parser).collect()
    return exact, good, fast


def check_line_by_line(exact, good, fast) -> None:
    for row in fast:
        name = row["source_file"]
        if row["status"] == LINE_TRADE:
            assert name in good, (name, exact.get(name))  # a good row for the rules
            taken = (row["isin"], row["file_date"], *[row[value] for value in VALUES[2:]])
            assert taken == good[name], name
        elif row["status"] == LINE_HEADER:
            assert name not in exact  # Spark's reader drops the header line too
        else:
            assert row["status"] == LINE_OTHER


def test_plain_and_quoted_good_lines_are_taken(spark, tmp_path):
    texts = [
        ",".join(good_fields()),
        ",".join(good_fields(ISIN="DE0005190003", Currency="EUR", SecurityDesc='"A, B"')),
        ",".join(good_fields(Date=f'"{DAY}"', Time='"23:59"', StartPrice='"0"', MinPrice=".5")),
        ",".join(good_fields(MaxPrice="999999999999", TradedVolume="999999999999999999")),
        HEADER,
    ]
    exact, good, fast = read_both(spark, tmp_path, texts)
    check_line_by_line(exact, good, fast)
    assert [row["status"] for row in sorted(fast, key=lambda row: row["source_file"])] == [
        LINE_TRADE, LINE_TRADE, LINE_TRADE, LINE_TRADE, LINE_HEADER]  # fmt: skip


def test_lines_good_for_the_rules_but_not_plain_are_left(spark, tmp_path):
    texts = [
        ",".join(good_fields(ISIN='" DE0005190003"')),  # the rules trim it
        ",".join(good_fields(StartPrice="-0")),  # a negative zero
        ",".join(good_fields(MaxPrice="1e2")),  # an exponent
        ",".join(good_fields(SecurityDesc='"A ""B"""')),  # a quote inside quotes
        ",".join(good_fields(SecurityDesc='"CAFÉ"')),  # not ASCII
        ",".join(good_fields(MaxPrice="1000000000000")),  # price_out_of_range for the rules
        ",".join(good_fields(Date="2024-01-05")),  # date_mismatch for the rules
    ]
    exact, good, fast = read_both(spark, tmp_path, texts)
    check_line_by_line(exact, good, fast)
    assert {row["status"] for row in fast} == {LINE_OTHER}
    assert len(good) == 5  # the first five are good rows for the rules


def test_every_field_at_the_rules_edges_in_one_file(spark, tmp_path):
    """Each tricky text in each field but SecurityID (which marks the line), and a MinPrice
    above MaxPrice, one line each in one file: every line the parser takes is a good row for
    the rules with the same values (the rules' rows found by their SecurityID)."""
    names = HEADER.split(",")
    changes = [{name: text} for name in names if name != "SecurityID"
               for text in TRICKY_TEXTS]  # fmt: skip
    changes += [{"MinPrice": "82", "MaxPrice": "81"}, {"MinPrice": "81", "MaxPrice": "81"}, {}]
    lines = [",".join(good_fields(**change, SecurityID=str(9_000_000 + index)))
             for index, change in enumerate(changes)]  # fmt: skip
    path = tmp_path / DAY / f"{DAY}_BINS_XETR08.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    files = list(LocalStore(str(tmp_path)).list(f"{DAY}/"))
    parser = register_line_parser(spark)
    fast = read_lines(spark, tmp_path.as_uri(), files, parser).collect()
    assert len(fast) == len(lines)  # one row per line, in the file's order
    exact = {}
    for row in exact_values(parsed_sources(spark, tmp_path.as_uri(), files)).collect():
        exact.setdefault(row["marker"], []).append(row)
    taken = 0
    for index, row in enumerate(fast):
        if row["status"] == LINE_TRADE:
            [good] = exact[str(9_000_000 + index)]
            assert good["reject_reason"] is None, (lines[index], good["reject_reason"])
            assert taken_values(row) == tuple(good[name] for name in VALUES), lines[index]
            taken += 1
        else:
            assert row["status"] == LINE_OTHER, lines[index]
    assert fast[-1]["status"] == LINE_TRADE and fast[-2]["status"] == LINE_TRADE  # the plain
    assert fast[-3]["status"] == LINE_OTHER  # MinPrice above MaxPrice
    assert 50 < taken < len(lines) // 2


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(texts=st.lists(lines(), min_size=1, max_size=60))
def test_a_line_the_parser_takes_is_a_good_row_with_the_same_values(spark, tmp_path_factory, texts):
    exact, good, fast = read_both(spark, tmp_path_factory.mktemp("lines"), texts)
    check_line_by_line(exact, good, fast)
    assert len(fast) == len(texts)


@pytest.mark.skipif(not SHARED_XETRA.is_dir(), reason="needs ../shared/data/xetra")
def test_every_real_line_is_taken_with_the_figures_of_the_rules(spark):
    """Two real trading days (2017-07-03, 2018-03-21: 125,054 rows) give the same daily figures
    through the parser as through Spark's CSV reader and parse_trades."""
    store = LocalStore(str(SHARED_XETRA))
    files = [item for day in ("2017-07-03", "2018-03-21") for item in store.list(f"{day}/")]
    parser = register_line_parser(spark)
    lines_read = read_lines(spark, SHARED_XETRA.as_uri(), files, parser)
    statuses = dict(lines_read.groupBy("status").count().collect())
    assert statuses == {LINE_TRADE: 125_054, LINE_HEADER: len(files)}
    columns = ["isin", "trade_date", "currency", "opening_price", "closing_price",
               "minimum_price", "maximum_price", "daily_traded_volume", "number_of_trades",
               "trades_read", "trades_used"]  # fmt: skip
    through_parser = lines_read.transform(line_trades).transform(daily_figures_of_trades)
    through_rules = parsed_sources(spark, SHARED_XETRA.as_uri(), files).transform(
        daily_figures_of_good_rows
    )
    expected = sorted(tuple(row) for row in through_rules.select(*columns).collect())
    assert len(expected) == 2827  # (ISIN, date) pairs of the two days
    assert sorted(tuple(row) for row in through_parser.select(*columns).collect()) == expected


# -- whole runs: with the parser and without it, the same report, quarantine and counts


def trade(day, time, isin="DE0005190003", **changes) -> str:
    return ",".join(good_fields(**{"Date": day, "Time": time, "ISIN": f'"{isin}"', **changes}))


FILES = {
    ("2024-01-03", 8): [
        trade("2024-01-03", "08:00"),
        trade("2024-01-03", "08:01", SecurityDesc='"A ""B"""'),
    ],  # left
    ("2024-01-04", 8): [
        trade("2024-01-04", "08:00"),
        trade("2024-01-04", "08:05", isin="X1"),
        trade("2024-01-04", "08:10", StartPrice="-1"),
    ],  # bad: negative
    ("2024-01-04", 9): [
        trade("2024-01-04", "09:00", ISIN='" DE0005190003"'),  # left, good
        trade("2024-01-04", "08:00", EndPrice="81"),
    ],  # a repeat
    ("2024-01-05", 8): [trade("2024-01-05", "08:00"), "not, a, trade"],  # bad: malformed
    # a repeat of 08:00 the parser leaves (the rules trim the ISIN): a repeat all the same
    ("2024-01-05", 9): [trade("2024-01-05", "08:00", ISIN='" DE0005190003"', EndPrice="81")],
    ("2024-01-08", 8): [trade("2024-01-08", "08:00"), trade("2024-01-08", "10:00")],  # plain
}


def run_job(source: Path, target: Path) -> dict:
    code = main(["--env", "local", "--source", source.as_uri(), "--target", target.as_uri(),
                 "--start", "2024-01-04", "--end", "2024-01-08",
                 "--set", "logging.log_path="])  # fmt: skip
    assert code == 0
    [summary] = [json.loads(path.read_text()) for path in (target / "_state/xetra/runs").glob("*")]
    return summary


def test_a_run_with_lines_left_to_the_rules_equals_a_run_without_the_parser(
    spark, tmp_path, monkeypatch
):
    source = tmp_path / "pds"
    for (day, hour), rows in FILES.items():
        path = source / day / f"{day}_BINS_XETR{hour:02d}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join([HEADER, *rows]) + "\n")
    with_parser = run_job(source, tmp_path / "with")
    monkeypatch.setattr(xetra_job, "register_line_parser", lambda spark: None)
    without = run_job(source, tmp_path / "without")

    assert with_parser["line_parser"] == "jvm" and without["line_parser"] == "spark_csv"
    # 2024-01-03 (lookback) and 2024-01-04 have lines the parser leaves; 2024-01-04 a repeat
    assert with_parser["dates_read_again"] == ["2024-01-03", "2024-01-04", "2024-01-05"]
    assert without["dates_read_again"] == ["2024-01-04", "2024-01-05"]
    assert with_parser["dates_deduplicated"] == without["dates_deduplicated"] == without[
        "dates_read_again"]  # fmt: skip
    for key in ("rows", "per_date", "report_rows", "dates_deduplicated", "files", "files_read"):
        assert with_parser[key] == without[key], key
    assert with_parser["rows"]["read"] == 10 and with_parser["rows"]["quarantined"] == 2

    def table(target, name):
        frame = spark.read.parquet(str(target / name))
        return sorted(tuple(None if isinstance(v, float) and math.isnan(v) else v for v in row)
                      for row in frame.collect())  # fmt: skip

    for name in ("xetra_daily_report", "quarantine/xetra"):
        assert table(tmp_path / "with", name) == table(tmp_path / "without", name), name
    assert (
        read_report(spark, (tmp_path / "with").as_uri()).count() == with_parser["report_rows"] == 4
    )
