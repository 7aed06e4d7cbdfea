"""bootstrap/emr_install_python_deps.sh against a throwaway virtualenv (the interpreter is a
parameter, as python3.11 is on EMR)."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bootstrap" / "emr_install_python_deps.sh"


@pytest.fixture(scope="module")
def interpreter(tmp_path_factory):
    target = tmp_path_factory.mktemp("emr-node") / "venv"
    venv.EnvBuilder(with_pip=True).create(target)
    return target / "bin" / "python"


def run_script(*args):
    return subprocess.run(
        ["bash", str(SCRIPT), *map(str, args)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def test_installs_the_pinned_requirements_idempotently(interpreter, tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("six==1.16.0\n")
    first = run_script(requirements, interpreter)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "installing with Python 3" in first.stdout
    assert "six==1.16.0" in first.stdout  # it says what is installed
    version = subprocess.run(
        [str(interpreter), "-c", "import six; print(six.__version__)"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert version == "1.16.0"
    again = run_script(requirements, interpreter)
    assert again.returncode == 0 and "done" in again.stdout


def test_fails_loudly(tmp_path, interpreter):
    missing = run_script(tmp_path / "nope.txt", interpreter)
    assert missing.returncode != 0
    no_python = run_script(tmp_path / "r.txt", "/no/such/python3.11")
    assert no_python.returncode == 1 and "not found" in no_python.stdout
    usage = run_script()
    assert usage.returncode != 0 and "usage" in usage.stderr


def test_script_is_strict():
    head = SCRIPT.read_text().splitlines()[:12]
    assert head[0] == "#!/usr/bin/env bash"
    assert "set -euo pipefail" in head
    assert sys.platform != "win32"
