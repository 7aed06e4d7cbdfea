"""Entry script: the generic API extraction under spark-submit or as a Glue (Python) script."""

import sys

from jobs.api_extract.__main__ import JOB
from lib.runner import run_entry

if __name__ == "__main__":
    sys.exit(run_entry(JOB, sys.argv[1:]))
