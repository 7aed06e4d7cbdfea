"""A second, config-defined source (a billing-style cursor API) through the same client."""

from __future__ import annotations

import json
from datetime import date

from jobs.api_extract.__main__ import main
from lib.landing import read_manifest
from lib.storage import ObjectStore


def test_cursor_source_lands_every_page_with_the_key_from_the_environment(
    api, aws, bucket, monkeypatch, capsys
):
    api.require_api_key = "billing-key-7f3a"
    api.fail_first = 1  # every page fails once on its way
    monkeypatch.setenv("BILLING_API_KEY", "billing-key-7f3a")
    code = main(
        ["--env", "local", "--source", "billing", "--target", f"s3://{bucket}/raw",
         "--date", "2024-05-06", "--set", "logging.log_path=",
         "--set", f"job.sources.billing.base_url={api.base_url}",
         "--set", "job.sources.billing.backoff_factor=0.01"]
    )  # fmt: skip
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "billing-key-7f3a" not in out.out + out.err
    store = ObjectStore.for_uri(f"s3://{bucket}/raw", aws)
    manifest = read_manifest(store, "billing", "accounts", date(2024, 5, 6))
    assert manifest["counts"]["records"] == len(api.accounts)
    assert manifest["counts"]["parts"] == 4  # 95 accounts, 25 a page
    ids = []
    for part in manifest["parts"]:
        key = f"billing/accounts/extraction_date=2024-05-06/{part['key']}"
        ids += [account["id"] for account in json.loads(store.read_bytes(key))["data"]]
    assert ids == [account["id"] for account in api.accounts]


def test_a_wrong_key_fails_and_commits_nothing(api, aws, bucket, monkeypatch, capsys):
    api.require_api_key = "right"
    monkeypatch.setenv("BILLING_API_KEY", "wrong-key-0000")
    code = main(
        ["--env", "local", "--source", "billing", "--target", f"s3://{bucket}/raw",
         "--set", "logging.log_path=", "--set", f"job.sources.billing.base_url={api.base_url}"]
    )  # fmt: skip
    assert code == 1
    out = capsys.readouterr().out
    assert "/v2/accounts" in out
    assert "wrong-key-0000" not in out
    assert list(ObjectStore.for_uri(f"s3://{bucket}/raw", aws).list("billing/")) == []


def test_unknown_source_is_a_usage_error(capsys):
    assert main(["--env", "local", "--source", "nope", "--target", "file:///tmp/x"]) == 2
    assert "known: billing" in capsys.readouterr().err


def test_an_api_that_caps_its_pages_still_lands_every_record(api, aws, bucket, monkeypatch, capsys):
    """Issue 13.8 at job level: 40 asked a page, 10 served; short pages are not the end."""
    api.max_page_size = 10
    monkeypatch.setenv("BILLING_API_KEY", "unused")
    code = main(
        ["--env", "local", "--source", "billing", "--endpoint", "items",
         "--target", f"s3://{bucket}/raw", "--date", "2024-05-07", "--set", "logging.log_path=",
         "--set", f"job.sources.billing.base_url={api.base_url}",
         "--set", "job.sources.billing.endpoints.items.path=/v1/items",
         "--set", "job.sources.billing.endpoints.items.pagination=page",
         "--set", "job.sources.billing.endpoints.items.limit_param=per_page",
         "--set", "job.sources.billing.endpoints.items.limit=40"]
    )  # fmt: skip
    out = capsys.readouterr()
    assert code == 0, out.err
    store = ObjectStore.for_uri(f"s3://{bucket}/raw", aws)
    manifest = read_manifest(store, "billing", "items", date(2024, 5, 7))
    assert manifest["counts"]["records"] == len(api.accounts) == 95
    ids = []
    for part in manifest["parts"]:
        key = f"billing/items/extraction_date=2024-05-07/{part['key']}"
        ids += [account["id"] for account in json.loads(store.read_bytes(key))]
    assert ids == [account["id"] for account in api.accounts]
