"""Values AWS services accept, checked before a call (and by the config) instead of after."""

from __future__ import annotations

# CloudWatch Logs PutRetentionPolicy: the retention periods it accepts, in days
RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
     2922, 3288, 3653}
)  # fmt: skip
