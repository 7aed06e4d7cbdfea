"""Synthetic Xetra PDS files that reproduce the real format, for `make run` and tests.

What it imitates (see ../shared/data/xetra/README.md): the exact header, LF endings, one file per
UTC hour named ``<date>/<date>_BINS_XETR<HH>.csv``, header-only files (136 bytes) for hours
without trading, a missing hour file now and then, descriptions with commas
(``"ZURICH INSUR.GR.NA.SF0,10"``), quoting of every string (2017 style) or only of fields that
need it (newer years), prices in shortest form (``109``, ``2.638``), a plausible per-instrument
random walk minute by minute, volumes that can be 0, a few non-EUR currencies.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from jobs.xetra.transform import SOURCE_COLUMNS

TRADING_HOURS = range(7, 16)  # CEST summer: files 07..15 hold the session


@dataclass(frozen=True)
class Instrument:
    isin: str
    mnemonic: str
    description: str
    security_type: str
    currency: str
    security_id: int
    start_price: float


_NAMES = (
    ("ZURICH INSUR.GR.NA.SF0,10", "ZFIN", "Common stock"),
    ("BAY.MOTOREN WERKE AG ST", "BMW", "Common stock"),
    ("SAP SE O.N.", "SAP", "Common stock"),
    ("ISHS CORE DAX UCITS ETF, DE", "EXS1", "ETF"),
    ("XTRACKERS PHYS.GOLD ETC", "XAD5", "ETC"),
    ("SIEMENS AG NA O.N.", "SIE", "Common stock"),
    ("VANECK VECT.GOLD MIN.,ETF", "G2X", "ETF"),
    ("DEUTSCHE TELEKOM AG NA", "DTE", "Common stock"),
    ("ALLIANZ SE NA O.N.", "ALV", "Common stock"),
    ("WISDOMTREE BRENT, ETN", "OSPB", "ETN"),
)


def instruments(count: int = 20, seed: int = 42) -> list[Instrument]:
    generator = random.Random(seed)
    result = []
    for index in range(count):
        name, mnemonic, kind = _NAMES[index % len(_NAMES)]
        suffix = "" if index < len(_NAMES) else f" {index // len(_NAMES)}"
        country = generator.choice(("DE", "CH", "IE", "LU", "US"))
        digits = "".join(str(generator.randint(0, 9)) for _ in range(9))
        result.append(
            Instrument(
                isin=f"{country}{digits}{index % 10}",
                mnemonic=f"{mnemonic}{index // len(_NAMES) or ''}",
                description=name + suffix,
                security_type=kind,
                currency="USD" if index % 13 == 7 else "EUR",
                security_id=2_500_000 + index,
                start_price=round(generator.uniform(2, 300), 2),
            )
        )
    return result


def shortest(value: float) -> str:
    """Prices as the PDS writes them: ``109`` not ``109.0``, ``2.638`` not ``2.6380``."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return text or "0"


def _quote_all(values: list[str], quoted_columns: set[int]) -> str:
    return ",".join(f'"{v}"' if i in quoted_columns else v for i, v in enumerate(values))


def day_files(
    day: date,
    count: int = 20,
    seed: int = 42,
    quote_all_strings: bool = True,
    missing_hours: tuple[int, ...] = (),
    trades_per_hour: int = 30,
) -> Iterator[tuple[str, str]]:
    """(key, CSV text) for each hour file of one day. Weekends give header-only files."""
    generator = random.Random(f"{seed}-{day.isoformat()}")
    listed = instruments(count, seed)
    # each instrument's walk starts where a deterministic "previous close" left it
    prices = {i.isin: i.start_price * (1 + 0.01 * ((day.toordinal() * 7 + k) % 11 - 5))
              for k, i in enumerate(listed)}  # fmt: skip
    string_columns = {0, 1, 2, 3, 4, 6, 7}
    for hour in range(24):
        if hour in missing_hours:
            continue
        buffer = io.StringIO()
        buffer.write(",".join(SOURCE_COLUMNS) + "\n")
        if day.weekday() < 5 and hour in TRADING_HOURS:
            minutes = sorted(generator.sample(range(60), k=min(60, trades_per_hour)))
            writer = csv.writer(buffer, lineterminator="\n")
            for minute in minutes:
                for instrument in generator.sample(listed, k=max(1, len(listed) // 3)):
                    start = prices[instrument.isin]
                    steps = [start * (1 + generator.gauss(0, 0.002)) for _ in range(3)]
                    end = steps[-1]
                    prices[instrument.isin] = end
                    values = [
                        instrument.isin,
                        instrument.mnemonic,
                        instrument.description,
                        instrument.security_type,
                        instrument.currency,
                        str(instrument.security_id),
                        day.isoformat(),
                        f"{hour:02d}:{minute:02d}",
                        shortest(round(start, 4)),
                        shortest(round(max(start, *steps), 4)),
                        shortest(round(min(start, *steps), 4)),
                        shortest(round(end, 4)),
                        str(generator.choice((0, generator.randint(1, 5000)))),
                        str(generator.randint(1, 40)),
                    ]
                    if quote_all_strings:
                        buffer.write(_quote_all(values, string_columns) + "\n")
                    else:
                        writer.writerow(values)  # quotes only fields that need it
        yield f"{day.isoformat()}/{day.isoformat()}_BINS_XETR{hour:02d}.csv", buffer.getvalue()


def date_range(start: date, end: date) -> list[date]:
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]
