"""What every generated model in :mod:`dagster_dms.models` shares: conversion between Python
values and the AWS wire form (timestamps, lists, maps, nested shapes), and the ``ApiModel`` base.

Kept apart from the generated module so it is written, reviewed and typed once.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar


class ModelError(ValueError):
    """A document does not match the API model; the message names the member path."""


class _Converter:
    def load(self, value: Any, path: str) -> Any:
        raise NotImplementedError

    def dump(self, value: Any) -> Any:
        raise NotImplementedError


def _kind(value: Any) -> str:
    return type(value).__name__


def _expect(value: Any, kind: type, expected: str, path: str) -> None:
    if not isinstance(value, kind):
        raise ModelError(f"invalid value at {path}: expected {expected}, got {_kind(value)}")


class _Exact(_Converter):
    """A value of one Python type, the same on the wire (a string, a boolean)."""

    def __init__(self, kind: type, expected: str) -> None:
        self.kind = kind
        self.expected = expected

    def load(self, value: Any, path: str) -> Any:
        _expect(value, self.kind, self.expected, path)
        return value

    def dump(self, value: Any) -> Any:
        return value


class _Int(_Converter):
    def load(self, value: Any, path: str) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ModelError(f"invalid value at {path}: expected an integer, got {_kind(value)}")
        if isinstance(value, float):
            if not value.is_integer():
                raise ModelError(f"invalid value at {path}: expected an integer, got {value}")
            return int(value)
        return value

    def dump(self, value: Any) -> Any:
        return value


_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


class _Float(_Converter):
    def load(self, value: Any, path: str) -> Any:
        if isinstance(value, str) and value in _NON_FINITE:
            return _NON_FINITE[value]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ModelError(f"invalid value at {path}: expected a number, got {_kind(value)}")
        return float(value)

    def dump(self, value: Any) -> Any:
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value


def parse_timestamp(value: Any) -> _dt.datetime | None:
    """Epoch seconds (number or numeric string) or ISO 8601 -> aware UTC datetime."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return _dt.datetime.fromtimestamp(value, tz=_dt.timezone.utc)
    if not isinstance(value, str) or not value:
        return None
    try:
        return _dt.datetime.fromtimestamp(float(value), tz=_dt.timezone.utc)
    except ValueError:
        pass
    text = value[:-1] + "+00:00" if value[-1] in "Zz" else value
    try:
        parsed = _dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=_dt.timezone.utc)
    return parsed.astimezone(_dt.timezone.utc)


def timestamp_to_api(value: _dt.datetime) -> int | float:
    """Aware (or naive, taken as UTC) datetime -> epoch seconds, an int when whole."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    delta = value - _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    if micros % 1_000_000 == 0:
        return micros // 1_000_000
    return micros / 1_000_000


class _Timestamp(_Converter):
    def load(self, value: Any, path: str) -> Any:
        parsed = parse_timestamp(value)
        if parsed is None:
            raise ModelError(f"invalid value at {path}: expected a timestamp, got {value!r}")
        return parsed

    def dump(self, value: Any) -> Any:
        return timestamp_to_api(value)


class _Of(_Converter):
    """A container; `element` converts what it holds."""

    def __init__(self, element: _Converter) -> None:
        self.element = element


class _ListOf(_Of):
    def load(self, value: Any, path: str) -> Any:
        _expect(value, list, "a list", path)
        return [self.element.load(item, f"{path}[{i}]") for i, item in enumerate(value)]

    def dump(self, value: Any) -> Any:
        return [self.element.dump(item) for item in value]


class _MapOf(_Of):
    def load(self, value: Any, path: str) -> Any:
        _expect(value, Mapping, "an object", path)
        return {str(k): self.element.load(v, f"{path}.{k}") for k, v in value.items()}

    def dump(self, value: Any) -> Any:
        return {k: self.element.dump(v) for k, v in value.items()}


class _Nested(_Converter):
    def __init__(self, model: type[ApiModel]) -> None:
        self.model = model

    def load(self, value: Any, path: str) -> Any:
        return self.model._load(value, path)

    def dump(self, value: Any) -> Any:
        return value.to_api()


_STR = _Exact(str, "a string")
_INT = _Int()
_BOOL = _Exact(bool, "a boolean")
_FLOAT = _Float()
_TIMESTAMP = _Timestamp()


@dataclasses.dataclass(frozen=True)
class _Field:
    wire: str
    attr: str
    converter: _Converter
    required: bool


_M = TypeVar("_M", bound="ApiModel")


class ApiModel:
    """Common behaviour of the generated shapes: conversion from and to the AWS wire form."""

    __slots__ = ()
    extra: dict[str, Any]  # declared by every generated dataclass
    _FIELDS: ClassVar[tuple[_Field, ...]] = ()
    _WIRE_NAMES: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def from_api(cls: type[_M], data: Mapping[str, Any]) -> _M:
        """Builds the shape from an API document; unknown keys land in `extra`."""
        return cls._load(data, cls.__name__)

    @classmethod
    def _load(cls: type[_M], data: Any, path: str) -> _M:
        if not isinstance(data, Mapping):
            raise ModelError(f"invalid value at {path}: expected an object, got {_kind(data)}")
        kwargs: dict[str, Any] = {}
        for f in cls._FIELDS:
            value = data.get(f.wire)
            if value is None:
                if f.required:
                    raise ModelError(f"missing required member {path}.{f.wire}")
                continue
            kwargs[f.attr] = f.converter.load(value, f"{path}.{f.wire}")
        kwargs["extra"] = {k: v for k, v in data.items() if k not in cls._WIRE_NAMES}
        constructor: Callable[..., _M] = cls
        return constructor(**kwargs)

    def to_api(self) -> dict[str, Any]:
        """The API document with AWS member names; unset members are omitted."""
        out: dict[str, Any] = {}
        for f in self._FIELDS:
            value = getattr(self, f.attr)
            if value is not None:
                out[f.wire] = f.converter.dump(value)
        for key, value in self.extra.items():
            out.setdefault(key, value)
        return out


def _fields(model: type[ApiModel], *fields: _Field) -> None:
    model._FIELDS = fields
    model._WIRE_NAMES = frozenset(f.wire for f in fields)
