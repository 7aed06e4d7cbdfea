"""Values AWS services accept, checked before a call (and by the config) instead of after."""

from __future__ import annotations

from typing import Any

# CloudWatch Logs PutRetentionPolicy: the retention periods it accepts, in days
RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
     2922, 3288, 3653}
)  # fmt: skip


def check_retention_days(retention_days: Any) -> None:
    """ValueError unless CloudWatch Logs accepts `retention_days` (None: no retention set)."""
    if retention_days is not None and retention_days not in RETENTION_DAYS:
        raise ValueError(
            f"retention_days={retention_days} is not accepted by CloudWatch; "
            f"use one of {sorted(RETENTION_DAYS)}"
        )


def check_client_settings(max_attempts: int, connect_timeout: float, read_timeout: float) -> None:
    """ValueError unless botocore can use these: at least one attempt, time-outs > 0 seconds."""
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
    if not (connect_timeout > 0 and read_timeout > 0):
        raise ValueError(
            f"time-outs must be > 0 seconds, got connect={connect_timeout} read={read_timeout}"
        )
