"""A page's state in its URL: one declarative table of fields, decoded with limits, encoded back.

A teacher shares a link and the student's page opens in the same state. Each page declares its
state once, like TensorFlow Playground's table of properties:

    SOFTMAX_STATE = UrlState(
        Field.floats("logits", default=(2.0, 1.0, 0.1), low=-20, high=20, max_items=7),
        Field.number("temperature", default=1.0, low=0.1, high=10),
        Field.choice("mistake", default="none", choices=("none", "forgot_log")),
    )
    values, problems = SOFTMAX_STATE.decode(query_params)   # never raises
    query = SOFTMAX_STATE.encode(values)                    # only what differs from the defaults

Decoding never raises and never trusts the URL: a value out of range, unreadable or too long is
replaced by the field's default and named in one sentence in `problems`, so any query string
opens the page. Text is capped at `MAX_TEXT` characters before it is even parsed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

from fer.i18n import _

MAX_TEXT = 2_000


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # "int", "float", "floats", "choice", "bool"
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple = ()
    max_items: int = 0
    min_items: int = 1

    # ------------------------------------------------------------------ constructors

    @classmethod
    def integer(cls, name: str, default: int, low: int, high: int) -> "Field":
        return cls(name, "int", int(default), low, high)

    @classmethod
    def number(cls, name: str, default: float, low: float, high: float) -> "Field":
        return cls(name, "float", float(default), low, high)

    @classmethod
    def floats(cls, name: str, default, low: float, high: float, max_items: int, min_items: int = 1) -> "Field":
        values = tuple(float(value) for value in default)
        return cls(name, "floats", values, low, high, max_items=max_items, min_items=min_items)

    @classmethod
    def choice(cls, name: str, default: str, choices) -> "Field":
        choices = tuple(choices)
        if default not in choices:
            raise ValueError(f"The default {default!r} of {name!r} is not one of its choices.")
        return cls(name, "choice", default, choices=choices)

    @classmethod
    def flag(cls, name: str, default: bool = False) -> "Field":
        return cls(name, "bool", bool(default))

    # ------------------------------------------------------------------ one value

    def parse(self, text: str) -> Any:
        """The value in `text`, or a ValueError whose message says what the field accepts."""
        if len(text) > MAX_TEXT:
            raise ValueError(_("is longer than {limit} characters").format(limit=MAX_TEXT))
        if self.kind == "choice":
            if text not in self.choices:
                raise ValueError(_("must be one of {choices}").format(choices=", ".join(map(str, self.choices))))
            return text
        if self.kind == "bool":
            if text not in ("0", "1"):
                raise ValueError(_("must be 0 or 1"))
            return text == "1"
        if self.kind == "floats":
            parts = [part for part in text.split(",")]
            if not self.min_items <= len(parts) <= self.max_items:
                if self.min_items == self.max_items:
                    raise ValueError(_("must hold exactly {count} numbers separated by commas").format(
                        count=self.max_items
                    ))
                raise ValueError(_("must hold {low} to {high} numbers separated by commas").format(
                    low=self.min_items, high=self.max_items
                ))
            return tuple(self._bounded(float(part)) for part in parts)
        if self.kind == "int":
            number = float(text)
            if not number.is_integer():
                raise ValueError(_("must be a whole number"))
            return int(self._bounded(number))
        return self._bounded(float(text))

    def _bounded(self, number: float) -> float:
        if not math.isfinite(number) or not self.low <= number <= self.high:
            raise ValueError(_("must lie between {low} and {high}").format(
                low=_readable(self.low), high=_readable(self.high)
            ))
        return number

    def format(self, value: Any) -> str:
        if self.kind == "bool":
            return "1" if value else "0"
        if self.kind == "floats":
            return ",".join(f"{float(v):g}" for v in value)
        if self.kind == "float":
            return f"{float(value):g}"
        return str(value)


def _readable(number: float) -> str:
    """1000000 as 1,000,000 (not 1e+06), 0.1 as 0.1."""
    return f"{int(number):,}" if float(number).is_integer() else f"{number:g}"


@dataclass(frozen=True)
class UrlState:
    fields: tuple[Field, ...]

    def __init__(self, *fields: Field) -> None:
        names = [field.name for field in fields]
        if len(set(names)) != len(names):
            raise ValueError(f"Two URL fields share a name: {names}.")
        object.__setattr__(self, "fields", tuple(fields))

    def defaults(self) -> dict[str, Any]:
        return {field.name: field.default for field in self.fields}

    def decode(self, query: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """Values for every field (defaults where the URL has none or a bad one) and the problems."""
        values, problems = self.defaults(), []
        for field in self.fields:
            raw = query.get(field.name)
            if raw is None:
                continue
            if isinstance(raw, (list, tuple)):
                raw = raw[-1] if raw else ""
            try:
                values[field.name] = field.parse(str(raw))
            except ValueError as error:
                reason = str(error) if not str(error).startswith("could not convert") else _("must be a number")
                problems.append(
                    _("The link's {name}={value} {reason}, so the page starts from {default} instead.").format(
                        name=field.name, value=repr(str(raw)[:40]), reason=reason,
                        default=repr(field.format(field.default)),
                    )
                )
        return values, problems

    def encode(self, values: Mapping[str, Any]) -> dict[str, str]:
        """Query parameters for `values`, leaving out those equal to their default."""
        query = {}
        for field in self.fields:
            value = values.get(field.name, field.default)
            if field.format(value) != field.format(field.default):
                query[field.name] = field.format(value)
        return query
