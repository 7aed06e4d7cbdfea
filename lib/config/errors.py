"""Configuration errors: each names the dotted key and the file (or --set) it came from."""

from __future__ import annotations


class ConfigError(ValueError):
    """A configuration problem, naming the key and the file it concerns."""

    def __init__(self, message: str, key: str | None = None, source: str | None = None):
        self.key = key
        self.source = source
        where = []
        if key:
            where.append(f"key '{key}'")
        if source:
            where.append(f"in {source}")
        super().__init__(f"{message} ({', '.join(where)})" if where else message)


class SecretInConfigError(ConfigError):
    """A secret was written into the configuration as a value."""

    def __init__(self, key: str, source: str | None, what: str = ""):
        super().__init__(
            ("secrets are never values in config" + (f" ({what})" if what else ""))
            + ": give {secret_id: <Secrets Manager id>} or {env: <VARIABLE>} instead",
            key,
            source,
        )
