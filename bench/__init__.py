"""`make bench`: the project's jobs and library measured against peers in the same run.

    python -m bench [--quick] [--skip-cold] [--out bench/results]

See bench/__main__.py for what is measured and README.md (Performance) for the latest table.
"""
