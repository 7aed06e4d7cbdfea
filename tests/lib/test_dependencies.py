"""The shipped library's shape: it depends on no job and no tooling, lib.aws does not depend on
lib.logging, and it names no job. Read from the sources (ast), and checked by importing."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIB = ROOT / "lib"


def module_imports(path: Path, top_level_only: bool = False) -> set[str]:
    """Every module `path` imports (only those at module level with top_level_only)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def lib_modules() -> list[Path]:
    return sorted(LIB.rglob("*.py"))


def test_lib_imports_no_job_no_tooling_and_no_test():
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            name
            for name in module_imports(path)
            if name.split(".")[0] in ("jobs", "tooling", "tests")
        )
        for path in lib_modules()
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_lib_aws_does_not_import_lib_logging_at_load_time():
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((LIB / "aws").glob("*.py"))
        if any(name.startswith("lib.logging") for name in module_imports(path, True))
    ]
    assert offenders == []
    code = (
        "import json, sys, pkgutil, importlib, lib.aws\n"
        "for info in pkgutil.iter_modules(lib.aws.__path__):\n"
        "    importlib.import_module('lib.aws.' + info.name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('lib.'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert "lib.aws.s3" in loaded
    assert [name for name in loaded if name.startswith("lib.logging")] == []


def test_the_sink_keeps_its_documented_addresses():
    from lib.aws import CloudwatchLogs as from_package
    from lib.aws.logs import CloudwatchLogs as from_old_module
    from lib.logging.cloudwatch import CloudwatchLogs

    assert from_package is from_old_module is CloudwatchLogs


def test_lib_names_no_job():
    jobs = sorted(path.parent.name for path in (ROOT / "jobs").glob("*/__main__.py"))
    assert jobs, "no job folders found"
    pattern = re.compile(r"\b(" + "|".join(re.escape(name) for name in jobs) + r")\b", re.I)
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in lib_modules()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert found == []


def test_secret_key_names_are_one_list_for_the_config_and_the_redactor():
    from lib.config import SecretInConfigError, load_config
    from lib.redact import Redactor

    redactor = Redactor()
    for key in ("hmac_signature", "session_key", "webhook_url", "db_password", "api_token"):
        assert redactor.value({key: "abc123"}) == {key: "*****"}, key
        try:
            load_config("local", overrides=[f"spark.conf.{key}=abc123"], environ={})
        except SecretInConfigError:
            continue
        raise AssertionError(f"config accepted a plain value under {key!r}")
