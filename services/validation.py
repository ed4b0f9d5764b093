"""Checks every value the browser sends before any arithmetic touches it.

A schema maps argument names to fields; :meth:`Schema.check` returns clean,
typed values or raises :class:`InvalidInput` with a message for the user.
Numbers must be finite and within bounds (never clamped silently), strings are
enums or limited in length, lists are limited in size. The schemas of the
app's callbacks live together in :mod:`services.schemas`.
"""

from __future__ import annotations

import functools
import inspect
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


class InvalidInput(ValueError):
    """A browser value outside its schema; ``str(error)`` is the message to show."""


@dataclass(frozen=True)
class Number:
    """A finite number in ``[lo, hi]``; ``integer`` requires a whole number."""

    label: str
    lo: float
    hi: float
    integer: bool = False
    default: float | None = None

    def clean(self, value: Any) -> float | int | None:
        if value is None or value == "":
            return self.default
        if isinstance(value, bool):
            raise InvalidInput(f"{self.label} must be a number, not {value!r}.")
        if isinstance(value, str):
            if len(value) > 40:
                raise InvalidInput(f"{self.label} must be a number.")
            try:
                value = float(value)
            except ValueError:
                raise InvalidInput(f"{self.label} must be a number, not {value!r}.") from None
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise InvalidInput(f"{self.label} must be a finite number.")
        if not self.lo <= value <= self.hi:
            raise InvalidInput(f"{self.label} must be between {self.lo:g} and {self.hi:g} (got {value:g}).")
        if self.integer:
            if float(value) != int(value):
                raise InvalidInput(f"{self.label} must be a whole number (got {value:g}).")
            return int(value)
        return float(value)


@dataclass(frozen=True)
class Choice:
    """One of a fixed set of values."""

    label: str
    options: tuple
    default: Any = None

    def clean(self, value: Any) -> Any:
        if value is None or value == "":
            return self.default
        if isinstance(value, str | int | float | bool) and value in self.options:
            return value
        shown = repr(value)[:40]
        raise InvalidInput(f"{self.label} must be one of {', '.join(map(str, self.options))} (got {shown}).")


@dataclass(frozen=True)
class Text:
    """A string of at most ``max_len`` characters, optionally matching ``pattern``."""

    label: str
    max_len: int = 200
    pattern: str | None = None
    default: str | None = None

    def clean(self, value: Any) -> str | None:
        if value is None:
            return self.default
        if not isinstance(value, str):
            raise InvalidInput(f"{self.label} must be text.")
        if len(value) > self.max_len:
            raise InvalidInput(
                f"{self.label} is {len(value):,} characters long; the limit is {self.max_len:,}."
            )
        if self.pattern and value and not re.fullmatch(self.pattern, value):
            raise InvalidInput(f"{self.label} is malformed.")
        return value


@dataclass(frozen=True)
class Flag:
    """A checkbox or switch: a bool, or a list of ticked values (Dash checklists)."""

    label: str
    default: bool = False

    def clean(self, value: Any) -> bool:
        if value is None:
            return self.default
        if isinstance(value, bool):
            return value
        if isinstance(value, list) and len(value) <= 8:
            return bool(value)
        if isinstance(value, int | float) and value in (0, 1):
            return bool(value)
        raise InvalidInput(f"{self.label} must be on or off.")


@dataclass(frozen=True)
class ListOf:
    """A list of at most ``max_items`` values, each checked by ``item``."""

    label: str
    item: Number | Choice | Text | Flag
    max_items: int = 64

    def clean(self, value: Any) -> list:
        if value is None:
            return []
        if not isinstance(value, list):
            raise InvalidInput(f"{self.label} must be a list.")
        if len(value) > self.max_items:
            raise InvalidInput(f"{self.label} has {len(value):,} entries; the limit is {self.max_items}.")
        return [self.item.clean(v) for v in value]


@dataclass(frozen=True)
class Anything:
    """A value passed on untouched but bounded in size (e.g. plotly event data), checked later."""

    label: str
    max_chars: int = 200_000

    def clean(self, value: Any) -> Any:
        if value is not None and len(repr(value)) > self.max_chars:
            raise InvalidInput(f"{self.label} is too large.")
        return value


@dataclass(frozen=True)
class Custom:
    """A value checked by a function that returns the clean value or raises InvalidInput."""

    label: str
    check: Callable[[Any], Any]

    def clean(self, value: Any) -> Any:
        return self.check(value)


Field = Number | Choice | Text | Flag | ListOf | Anything | Custom


@dataclass(frozen=True)
class Schema:
    """The inputs of one callback: name → field."""

    name: str
    fields: Mapping[str, Field] = field(default_factory=dict)

    def check(self, **values: Any) -> dict[str, Any]:
        """Clean values by name; InvalidInput on the first one outside the schema."""
        unknown = set(values) - set(self.fields)
        if unknown:
            raise InvalidInput(f"Unexpected input {sorted(unknown)[0]!r}.")
        return {name: spec.clean(values.get(name)) for name, spec in self.fields.items()}


def validated(schema: Schema, on_invalid: Callable[[str], Any]) -> Callable[[Callable], Callable]:
    """Check a callback's named arguments against ``schema`` before its body runs.

    Arguments the schema names are replaced by their clean values; others (``set_progress``)
    pass through. On an invalid value the callback is not run: ``on_invalid(message)`` answers.
    """

    def wrap(func: Callable) -> Callable:
        signature = inspect.signature(func)

        @functools.wraps(func)
        def checked(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind_partial(*args, **kwargs)
            named = {k: v for k, v in bound.arguments.items() if k in schema.fields}
            try:
                clean = schema.check(**named)
            except InvalidInput as error:
                return on_invalid(str(error))
            bound.arguments.update({k: clean[k] for k in named})
            return func(*bound.args, **bound.kwargs)

        return checked

    return wrap
