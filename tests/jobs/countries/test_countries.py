"""The countries jobs: extraction against the local API with faults, curation with Spark."""

from __future__ import annotations

import json
from datetime import date

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs.countries.__main__ import main
from jobs.countries.job import ALL_FIELDS, field_groups
from lib.landing import LandingRun, read_manifest
from lib.storage import ObjectStore
from tooling.local.api_server import FakeApiServer

DAY = "2024-05-06"


def extract(api, raw, *extra):
    # no client-side rate limit and short backoffs: the tests are about correctness
    return main(["extract", "--env", "local", "--base-url", api.base_url, "--target", raw,
                 "--date", DAY, "--set", "logging.log_path=",
                 "--set", "job.api.rate_per_second=null",
                 "--set", "job.api.backoff_factor=0.01", *extra])  # fmt: skip


def curate(raw, lake, *extra):
    return main(["transform", "--env", "local", "--source", raw, "--target", lake,
                 "--date", DAY, "--set", "logging.log_path=", *extra])  # fmt: skip


def test_field_groups_respect_the_10_field_limit():
    groups = field_groups(ALL_FIELDS, 10)
    assert [len(group) for group in groups] == [10, 10, 10, 5]
    assert groups[0][0] == "cca3"
    assert sorted(name for group in groups for name in group) == sorted(ALL_FIELDS)
    with pytest.raises(ValueError):
        field_groups(ALL_FIELDS, 11)


def landed(aws, raw, endpoint):
    store = ObjectStore.for_uri(raw, aws)
    manifest = read_manifest(store, "restcountries", endpoint, date.fromisoformat(DAY))
    return manifest, [store.read_bytes(f"restcountries/{endpoint}/extraction_date={DAY}/"
                                       f"{part['key']}") for part in manifest["parts"]]  # fmt: skip


def test_extract_with_injected_faults_lands_what_a_clean_run_lands(aws, bucket, country_records):
    with FakeApiServer(countries=country_records) as clean_api:
        assert extract(clean_api, f"s3://{bucket}/clean") == 0
    with FakeApiServer(countries=country_records, fail_first=2) as faulty_api:
        assert extract(faulty_api, f"s3://{bucket}/faulty") == 0
        assert sum(faulty_api.faults_sent.values()) >= 2 * (len(country_records) + 4)
    for endpoint in ("all", "alpha"):
        clean, clean_bodies = landed(aws, f"s3://{bucket}/clean", endpoint)
        faulty, faulty_bodies = landed(aws, f"s3://{bucket}/faulty", endpoint)
        assert faulty_bodies == clean_bodies
        assert [p["sha256"] for p in faulty["parts"]] == [p["sha256"] for p in clean["parts"]]
    alpha, _ = landed(aws, f"s3://{bucket}/clean", "alpha")
    assert alpha["counts"]["parts"] == len(country_records)
    manifest, bodies = landed(aws, f"s3://{bucket}/clean", "all")
    assert all("fields=" in part["url"] for part in manifest["parts"])
    assert len(bodies) == 4  # 35 fields in groups of at most 10


def test_a_request_that_finally_fails_commits_nothing(aws, bucket, country_records, capsys):
    broken = [*country_records, {**country_records[0], "cca3": "ZZZ", "cca2": "", "ccn3": ""}]
    with FakeApiServer(countries=broken) as api:
        # ZZZ is listed by /all but its alpha lookup 404s: the server indexes codes, we break it
        api._by_code.pop("ZZZ")
        assert extract(api, f"s3://{bucket}/raw") == 1
    out = capsys.readouterr()
    assert "/v3.1/alpha/ZZZ" in out.out and "failed" in out.err
    store = ObjectStore.for_uri(f"s3://{bucket}/raw", aws)
    assert list(store.list("restcountries/")) == []


@pytest.mark.spark
def test_curation_tables_edge_cases_and_idempotent_rerun(spark, api, bucket, country_records):
    raw, lake = f"s3://{bucket}/raw", f"s3://{bucket}/lake"
    assert extract(api, raw) == 0
    assert curate(raw, lake) == 0
    countries = spark.read.parquet(f"s3a://{bucket}/lake/countries").cache()
    assert countries.count() == len(country_records)
    assert countries.select("cca3").distinct().count() == len(country_records)
    assert countries.columns == [
        "cca3", "cca2", "ccn3", "name_common", "name_official", "region", "subregion",
        "capital", "population", "area", "independent", "un_member", "landlocked", "latitude",
        "longitude", "timezones", "borders", "extraction_date",
    ]  # fmt: skip
    dtypes = dict(countries.dtypes)
    assert dtypes["population"] == "bigint" and dtypes["area"] == "double"
    assert dtypes["timezones"] == dtypes["borders"] == "array<string>"

    by_code = {r.cca3: r for r in countries.collect()}
    source = {r["cca3"]: r for r in country_records}
    no_capital = [code for code, r in source.items() if not r["capital"]]
    assert no_capital and all(by_code[code].capital is None for code in no_capital)
    float_area = [code for code, r in source.items() if isinstance(r["area"], float)]
    assert float_area and all(by_code[c].area == source[c]["area"] for c in float_area)
    for code, record in source.items():
        assert by_code[code].population == record["population"]
        assert by_code[code].borders == record.get("borders", [])
        assert by_code[code].latitude == record["latlng"][0]

    currencies = spark.read.parquet(f"s3a://{bucket}/lake/country_currencies")
    expected = spark.createDataFrame(
        [(c, code, v.get("name"), v.get("symbol"))
         for c, r in source.items() for code, v in r["currencies"].items()],
        "cca3 string, currency_code string, currency_name string, currency_symbol string",
    )  # fmt: skip
    assert_df_equality(
        currencies.drop("extraction_date"), expected, ignore_row_order=True, ignore_nullable=True
    )
    no_currency = [code for code, r in source.items() if not r["currencies"]]
    assert currencies.where(F.col("cca3").isin(no_currency)).count() == 0
    languages = spark.read.parquet(f"s3a://{bucket}/lake/country_languages")
    assert languages.count() == sum(len(r["languages"]) for r in country_records)

    before = {t: spark.read.parquet(f"s3a://{bucket}/lake/{t}").collect()
              for t in ("countries", "country_currencies", "country_languages")}  # fmt: skip
    assert curate(raw, lake) == 0  # the same date again: replaced, not appended
    for table, rows in before.items():
        again = spark.read.parquet(f"s3a://{bucket}/lake/{table}").collect()
        assert sorted(again) == sorted(rows)


@pytest.mark.spark
def test_records_without_cca3_or_broken_json_are_quarantined(spark, aws, bucket, country_records):
    store = ObjectStore.for_uri(f"s3://{bucket}/raw", aws)
    run = LandingRun(store, "restcountries", "alpha", date.fromisoformat(DAY), "manual")
    for record in country_records[:4]:
        run.add(json.dumps([record]).encode(), "http://api/alpha")
    run.add(json.dumps([dict(country_records[4], cca3="")]).encode(), "http://api/alpha")
    run.add(json.dumps([country_records[5]]).encode(), "http://api/alpha")  # a duplicate cca3
    run.add(json.dumps([country_records[5]]).encode(), "http://api/alpha")
    run.add(b'[{"cca3": "BRK", "name": ', "http://api/alpha")  # truncated body
    run.commit()
    assert curate(f"s3://{bucket}/raw", f"s3://{bucket}/lake", "--format", "delta") == 0
    quarantine = spark.read.format("delta").load(f"s3a://{bucket}/lake/quarantine/countries")
    assert sorted(r.reject_reason for r in quarantine.collect()) == [
        "duplicate_cca3",
        "malformed_json",
        "missing_cca3",
    ]
    countries = spark.read.format("delta").load(f"s3a://{bucket}/lake/countries")
    assert countries.count() == 5
