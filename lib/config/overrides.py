"""Command-line overrides: ``--set spark.conf.spark.sql.shuffle.partitions=4``.

One ``--set`` may hold several pairs separated by ``;`` (``--set "a.b=1; c.d=x"``), for
platforms that pass each argument once (Glue).

The dotted key is split along the schema: a mapping field (``spark.conf``) takes the rest of the
key as one key.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

from lib.config.coercion import dotted
from lib.config.errors import ConfigError

# `;` separates pairs when another `key=` follows it: "a.b=1; c.d=x" (Glue passes each argument
# once, so several overrides ride in one --set there); "-Da=1;-Db=2" stays one value
# "\;" is a literal ";" (for a value like "https://h/api;jsessionid=1")
_PAIR_SEPARATOR = re.compile(r"(?<!\\);\s*(?=[A-Za-z_][\w.\-]*=)")


def split_overrides(texts: Iterable[str]) -> list[str]:
    """Each --set value as its key=value pairs: one, or several separated by `;`."""
    return [
        part.replace("\\;", ";")
        for text in texts
        for part in _PAIR_SEPARATOR.split(text)
        if part.strip()
    ]


def parse_override(text: str) -> tuple[str, str]:
    """``"spark.conf.spark.sql.shuffle.partitions=4"`` -> (dotted key, text value)."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"an override is KEY=VALUE, got {text!r}", source="--set")
    return key.strip(), value


def override_path(cls: Any, parts: list[str]) -> tuple[str, ...]:
    """Split a dotted override key along the schema: a mapping field takes the rest as one key."""
    path: list[str] = []
    tp: Any = cls
    index = 0
    while index < len(parts):
        tp = _strip_optional(tp)
        if dataclasses.is_dataclass(tp):
            hints = typing.get_type_hints(tp)
            name = parts[index]
            if name not in hints:
                close = difflib.get_close_matches(name, hints, n=1)
                hint = (
                    f"; did you mean '{close[0]}'?" if close else f"; known keys: {sorted(hints)}"
                )
                raise ConfigError(f"unknown key{hint}", dotted([*path, name]), "--set")
            path.append(name)
            tp = hints[name]
            index += 1
        elif typing.get_origin(tp) in (Mapping, dict):
            value_type = typing.get_args(tp)[1]
            if dataclasses.is_dataclass(_strip_optional(value_type)):
                path.append(parts[index])
                tp = value_type
                index += 1
            else:
                path.append(".".join(parts[index:]))
                return tuple(path)
        else:
            raise ConfigError("cannot set inside a scalar", dotted(parts), "--set")
    return tuple(path)


def _strip_optional(tp: Any) -> Any:
    if typing.get_origin(tp) in (types.UnionType, typing.Union):
        non_null = [arg for arg in typing.get_args(tp) if arg is not type(None)]
        if len(non_null) == 1:
            return non_null[0]
    return tp


def set_path(tree: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = tree
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[path[-1]] = value
