"""`make bench`: the project's jobs and library measured against peers in the same run.

    python -m tooling.bench [--data DIR] [--repeat N] [--skip-cold] [--out tooling/bench/results]

See tooling/bench/__main__.py for what is measured and README.md (Performance) for the latest table.
The package itself imports nothing beyond the standard library: the peers (DuckDB, Polars, pandas,
watchtower; the bench extra) are imported by the modules that run them.
"""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class BenchError(RuntimeError):
    """The benchmark cannot run (its message says why)."""
