"""Entry script: `countries extract` under spark-submit (EMR, EMR Serverless) or AWS Glue.

Glue passes only --key value arguments, so the sub-command is fixed by the script.
"""

import sys

from jobs.countries.__main__ import JOB
from lib.runner import run_entry

if __name__ == "__main__":
    sys.exit(run_entry(JOB, sys.argv[1:], leading=["extract"]))
