"""The Xetra job's entry script for spark-submit (EMR, EMR Serverless, local) and AWS Glue.

    spark-submit --py-files datalake_etl-<version>.zip jobs/xetra/entry.py --env dev ...

Under Glue the arguments come through awsglue.utils.getResolvedOptions (lib.runner.run_entry).
"""

import sys

from jobs.xetra.__main__ import JOB
from lib.runner import run_entry

if __name__ == "__main__":
    sys.exit(run_entry(JOB, sys.argv[1:]))
