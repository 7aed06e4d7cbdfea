"""`make run`: the embedded demo (moto server, synthetic data, the job over s3a) as a command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_make_run_works_without_any_aws_setup(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    result = subprocess.run(
        [sys.executable, "-m", "tooling.demos.xetra", "--start", "2024-01-04",
         "--end", "2024-01-05", "--instruments", "5"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "synthetic hour files uploaded" in out
    assert '"report_rows": 10' in out  # 5 instruments x 2 trading days
    assert "first report rows:" in out and "change_prev_closing_pct" in out
    assert '"dates": []' in out  # the second run finds nothing new
