"""Typed reading of config values: a YAML value -> the type a schema field or a builder's
parameter declares (``coerce``), dataclass sections from dicts and back (``from_dict``,
``to_dict``), and builder keyword arguments checked against the builder's own signature
(``check_kwargs``). Unknown keys are :class:`ConfigError`\ s naming the key and the closest
valid one. Written here because the builders' signatures are the schema of the ``model:``
section and ``data.options``, which no config library reads.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from typing import Any, Union

from .errors import ConfigError, closest


def _type_name(tp) -> str:
    return getattr(tp, "__name__", str(tp)).replace("typing.", "")


def coerce(value: Any, tp: Any, where: str) -> Any:
    """Check/convert ``value`` to the annotation ``tp``; raise ConfigError naming ``where``."""
    if tp is Any or tp is inspect.Parameter.empty:
        return value
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return coerce(value, a, where)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(errors[0] if errors else f"{where}: bad value {value!r}")
    if origin is typing.Literal:
        if value in args:
            return value
        raise ConfigError(f"{where}: expected {' or '.join(map(repr, args))}, got {value!r}")
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return from_dict(tp, value, where)
    if origin in (list, tuple):
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                raise ConfigError(f"{where}: expected {len(args)} values, got {value!r}")
            return tuple(coerce(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
        item = args[0] if args else Any
        out = [coerce(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(out) if origin is tuple else out
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return dict(value)
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "1", "0"):
            return value.lower() in ("true", "yes", "1")
        raise ConfigError(f"{where}: expected true/false, got {value!r}")
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return int(value)
    if tp is float:
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if isinstance(value, (dict, list)):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return str(value)
    if isinstance(tp, type) and not isinstance(value, tp):
        raise ConfigError(f"{where}: expected {_type_name(tp)}, got {value!r}")
    return value


def _hints(cls) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _unknown_key(key: str, names, where: str) -> ConfigError:
    hint = closest(key, names)
    return ConfigError(f"{where}: unknown key {key!r}" + (f"; did you mean {hint!r}?" if hint else f"; valid keys: {', '.join(names) or '(none)'}"))


def check_keys(cls, data: Any, where: str = "config") -> None:
    """Raise :func:`from_dict`'s unknown-key error for ``data`` (a partial config, such as a base
    fragment) without requiring or coercing values."""
    if not isinstance(data, dict):
        return
    hints, names = _hints(cls), [f.name for f in dataclasses.fields(cls)]
    for key, value in data.items():
        if key not in names:
            raise _unknown_key(key, names, where)
        if dataclasses.is_dataclass(hints[key]):
            check_keys(hints[key], value, f"{where}.{key}" if where != "config" else key)


def from_dict(cls, data: dict, where: str = "config"):
    """Build dataclass ``cls`` from ``data``; unknown keys are errors with a suggestion."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping, got {data!r}")
    hints = _hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs = {}
    for key, value in data.items():
        if key not in names:
            raise _unknown_key(key, names, where)
        kwargs[key] = coerce(value, hints[key], f"{where}.{key}" if where != "config" else key)
    return cls(**kwargs)


def to_dict(obj) -> Any:
    """Plain, YAML-able form of a config (tuples become lists)."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): to_dict(v) for k, v in obj.items()}
    return obj


def check_kwargs(fn, kwargs: dict, where: str) -> dict:
    """Check ``kwargs`` against ``fn``'s signature: unknown names are errors (with the closest
    valid name), values are coerced to the annotated types."""
    sig = inspect.signature(fn)
    params = {k: p for k, p in sig.parameters.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    accepts_any = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # unresolvable forward references: fall back to no coercion
        hints = {}
    out = {}
    for key, value in kwargs.items():
        if key not in params:
            if accepts_any:
                out[key] = value
                continue
            raise _unknown_key(key, list(params), where)
        out[key] = coerce(value, hints.get(key, Any), f"{where}.{key}")
    return out
