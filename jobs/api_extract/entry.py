"""Entry script: the generic API extraction under spark-submit or as a Glue (Python) script."""

import sys

from jobs.api_extract.__main__ import build_parser, main
from lib.cli import runtime_argv

if __name__ == "__main__":
    sys.exit(main(runtime_argv(sys.argv[1:], build_parser())))
