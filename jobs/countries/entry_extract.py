"""Entry script: `countries extract` under spark-submit (EMR, EMR Serverless) or AWS Glue.

Glue passes only --key value arguments, so the sub-command is fixed by the script.
"""

import sys

from jobs.countries.__main__ import build_parser, main
from lib.cli import runtime_argv

if __name__ == "__main__":
    sys.exit(main(["extract", *runtime_argv(sys.argv[1:], build_parser())]))
