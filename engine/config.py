"""engine.toml loading with strict validation.

Every component owns a frozen dataclass describing its section; `parse_section` builds it from the
TOML table and refuses unknown keys, wrong types and out-of-range values with a `ConfigError` that
names the offending key (``section.key``). Secrets are never read from the file: only from the
environment variables or files that the file names.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent.parent / "engine.toml"


class ConfigError(ValueError):
    """An engine.toml problem; the message starts with the dotted key."""


def load_toml(path: str | Path | None = None) -> dict[str, Any]:
    """Read engine.toml (the repository default when `path` is None)."""
    target = Path(path) if path is not None else DEFAULT_CONFIG_PATH
    try:
        with target.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{target}: not valid TOML: {exc}") from exc


def _check_type(key: str, value: Any, annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (types.UnionType, typing.Union):
        errors = []
        for option in typing.get_args(annotation):
            try:
                return _check_type(key, value, option)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(f"{key}: {value!r} matches none of {annotation}")
    if annotation is type(None):
        if value is None:
            return None
        raise ConfigError(f"{key}: expected nothing, got {value!r}")
    if origin is typing.Literal:
        allowed = typing.get_args(annotation)
        if value not in allowed:
            raise ConfigError(f"{key}: {value!r} is not one of {list(allowed)}")
        return value
    if origin in (tuple, list):
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{key}: expected a list, got {type(value).__name__}")
        (item_type, *_rest) = typing.get_args(annotation) or (Any,)
        items = [_check_type(f"{key}[{i}]", item, item_type) for i, item in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a table, got {type(value).__name__}")
        _key_type, value_type = typing.get_args(annotation)
        return {str(k): _check_type(f"{key}.{k}", v, value_type) for k, v in value.items()}
    if annotation is Any:
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        return float(value)
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        return value
    if annotation in (str, bool):
        if not isinstance(value, annotation):
            raise ConfigError(f"{key}: expected {annotation.__name__}, got {value!r}")
        return value
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a table, got {type(value).__name__}")
        return parse_section(value, key, annotation)
    raise ConfigError(f"{key}: unsupported setting type {annotation!r}")


def parse_section(table: dict[str, Any], name: str, cls: type[T]) -> T:
    """Build the dataclass `cls` from a TOML table; missing keys take the dataclass defaults.

    A dataclass may define ``validate(self) -> None`` raising ValueError for cross-field rules;
    the message is prefixed with the section name.
    """
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    hints = typing.get_type_hints(cls)
    fields = {field.name: field for field in dataclasses.fields(cls)}
    unknown = sorted(set(table) - set(fields))
    if unknown:
        raise ConfigError(f"{name}.{unknown[0]}: unknown setting")
    kwargs = {
        field_name: _check_type(f"{name}.{field_name}", table[field_name], hints[field_name])
        for field_name in fields
        if field_name in table
    }
    try:
        instance = cls(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"{name}: {exc}") from exc
    validate = getattr(instance, "validate", None)
    if callable(validate):
        try:
            validate()
        except ValueError as exc:
            raise ConfigError(f"{name}.{exc}") from exc
    return instance


def section_table(config: dict[str, Any], dotted: str) -> dict[str, Any]:
    """The (possibly nested) table at `dotted`, or an empty table when absent."""
    node: Any = config
    for part in dotted.split("."):
        if not isinstance(node, dict):
            raise ConfigError(f"{dotted}: expected a table")
        node = node.get(part, {})
    if not isinstance(node, dict):
        raise ConfigError(f"{dotted}: expected a table")
    return node
