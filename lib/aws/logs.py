"""The CloudWatch Logs sink's old address: it lives in lib.logging.cloudwatch now.

`from lib.aws.logs import CloudwatchLogs` keeps working (the predecessors' documented import);
the sink is loaded on first use, so importing lib.aws never imports lib.logging.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    from lib.logging import cloudwatch

    try:
        return getattr(cloudwatch, name)
    except AttributeError:
        raise AttributeError(f"module 'lib.aws.logs' has no attribute {name!r}") from None
