"""`make bench`: the project's jobs and library measured against peers in the same run.

    python -m tooling.bench [--quick] [--skip-cold] [--out tooling/bench/results]

See tooling/bench/__main__.py for what is measured and README.md (Performance) for the latest table.
"""
