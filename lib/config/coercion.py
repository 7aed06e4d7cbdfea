"""Typing a merged config tree into the schema's dataclasses, with provenance in every error.

A value that came from the environment or from ``--set`` is text and is converted to the field's
type (``"8"`` -> 8). A plain string under a secret-named key (lib.redact's pattern, the same one
the redactor blanks) is refused: secrets are SecretRefs, never values.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from lib.config.errors import ConfigError, SecretInConfigError
from lib.config.schema import SecretRef
from lib.redact import is_secret_config_key


class Provenance:
    """Remembers which file (or override) set each dotted key, and which values are text."""

    def __init__(self) -> None:
        self.source: dict[tuple[str, ...], str] = {}
        self.textual: set[tuple[str, ...]] = set()

    def of(self, path: tuple[str, ...]) -> str | None:
        for length in range(len(path), 0, -1):
            if path[:length] in self.source:
                return self.source[path[:length]]
        return None


def dotted(path: Iterable[str]) -> str:
    return ".".join(path)


def record(value: Any, path: tuple[str, ...], source: str, prov: Provenance) -> None:
    """Note `source` as the origin of `path` and of every key below it."""
    prov.source[path] = source
    if isinstance(value, dict):
        for key, item in value.items():
            record(item, (*path, str(key)), source, prov)


_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _from_text(tp: Any, value: str) -> Any:
    if tp is bool:
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(value)
    if tp is int:
        return int(value)
    if tp is float:
        return float(value)
    return value


def _coerce(tp: Any, value: Any, path: tuple[str, ...], prov: Provenance) -> Any:
    key, source = dotted(path), prov.of(path)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)

    if origin in (types.UnionType, typing.Union):
        textual_null = path in prov.textual and isinstance(value, str) and value in ("", "null")
        if value is None or textual_null:
            if type(None) in args:
                return None
            raise ConfigError("a value is required", key, source)
        errors = []
        candidates = [arg for arg in args if arg is not type(None)]
        # try the member whose Python type the value already has first
        candidates.sort(key=lambda arg: not (isinstance(arg, type) and type(value) is arg))
        for candidate in candidates:
            try:
                return _coerce(candidate, value, path, prov)
            except SecretInConfigError:
                raise
            except ConfigError as error:
                errors.append(error)
        if len(errors) == 1:
            raise errors[0]
        wanted = " or ".join(_type_name(arg) for arg in args if arg is not type(None))
        raise ConfigError(f"expected {wanted}, got {type(value).__name__} {value!r}", key, source)
    if value is None:
        raise ConfigError("a value is required, got null", key, source)
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"expected one of {list(args)}, got {value!r}", key, source)
        return value
    if dataclasses.is_dataclass(tp):
        if tp is SecretRef and isinstance(value, str):
            raise SecretInConfigError(key, source)
        if not isinstance(value, dict):
            raise ConfigError(
                f"expected a mapping for {tp.__name__}, got {type(value).__name__}", key, source
            )
        return build(tp, value, path, prov)
    if origin in (Mapping, dict, typing.Mapping):
        if not isinstance(value, dict):
            raise ConfigError(f"expected a mapping, got {type(value).__name__}", key, source)
        value_type = args[1] if len(args) == 2 else Any
        return types.MappingProxyType(
            {
                str(item_key): _coerce(value_type, item, (*path, str(item_key)), prov)
                for item_key, item in value.items()
            }
        )
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"expected a list, got {type(value).__name__}", key, source)
        return tuple(_coerce(args[0], item, path, prov) for item in value)
    if tp is Any:
        return value
    if tp in (str, int, float, bool):
        if isinstance(value, str) and tp is not str and path in prov.textual:
            try:
                return _from_text(tp, value)
            except ValueError:
                raise ConfigError(
                    f"expected {tp.__name__}, got text {value!r}", key, source
                ) from None
        if tp is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, tp) and not (tp is int and isinstance(value, bool)):
            _refuse_secret_value(path, value, key, source)
            return value
        raise ConfigError(
            f"expected {tp.__name__}, got {type(value).__name__} {value!r}", key, source
        )
    raise ConfigError(f"unsupported config type {tp!r}", key, source)


def _refuse_secret_value(path: tuple[str, ...], value: Any, key: str, source: str | None) -> None:
    """A secret written as a value: any number or text under a secret-named key, a password
    inside a URL (``scheme://user:password@host``), a secret-named query parameter
    (``?api_key=...``)."""
    if isinstance(value, bool):
        return
    if is_secret_config_key(path[-1], value) and not _is_reference_key(path):
        raise SecretInConfigError(key, source)
    if not isinstance(value, str):
        return
    if _CREDENTIAL_VALUE.match(value):
        raise SecretInConfigError(key, source, "an Authorization value")
    for url in _URL.findall(value) if "://" in value else ():
        parts = urllib.parse.urlsplit(url)
        if parts.password:
            raise SecretInConfigError(key, source, "a password inside a URL")
        # query string, fragment (#access_token=...) and path parameters (;password=...)
        pairs = [parts.query, parts.fragment, *parts.path.split(";")[1:]]
        for part in pairs:
            for name, given in urllib.parse.parse_qsl(part.replace(";", "&")):
                if is_secret_config_key(name, given):
                    raise SecretInConfigError(key, source, f"a secret in the URL's {name!r}")


_CREDENTIAL_VALUE = re.compile(r"(?i)^\s*(bearer|basic)\s+\S{8,}")
_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>]+")


def _is_reference_key(path: tuple[str, ...]) -> bool:
    """Keys whose value *names* where a secret is, rather than holding it."""
    return path[-1] in ("secret_id", "env", "key") or path[-1].endswith(
        ("_secret_id", "_env", "_provider", ".provider", "_header", "_field", "_param")
    )


def build(cls: type, data: Mapping[str, Any], path: tuple[str, ...], prov: Provenance) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = [key for key in data if key not in fields and key != "__source__"]
    if unknown:
        bad = str(unknown[0])
        close = difflib.get_close_matches(bad, fields, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; known keys: {sorted(fields)}"
        raise ConfigError(f"unknown key{hint}", dotted((*path, bad)), prov.of((*path, bad)))
    kwargs = {}
    for name, spec in fields.items():
        if name in data:
            kwargs[name] = _coerce(hints[name], data[name], (*path, name), prov)
        elif spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
            raise ConfigError(
                "missing required value",
                dotted((*path, name)),
                prov.of(path) or ", ".join(sorted(set(prov.source.values()))) or None,
            )
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as error:
        raise ConfigError(str(error), dotted(path) or None, prov.of(path)) from error
