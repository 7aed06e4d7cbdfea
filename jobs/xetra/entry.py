"""The Xetra job's entry script for spark-submit (EMR, EMR Serverless, local) and AWS Glue.

    spark-submit --py-files datalake_etl-<version>.zip jobs/xetra/entry.py --env dev ...

Under Glue the arguments come through awsglue.utils.getResolvedOptions (lib.cli.runtime_argv).
"""

import sys

from jobs.xetra.__main__ import build_parser, main
from lib.cli import runtime_argv

if __name__ == "__main__":
    sys.exit(main(runtime_argv(sys.argv[1:], build_parser())))
