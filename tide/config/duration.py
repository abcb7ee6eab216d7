"""Go duration strings (`30s`, `1m`, `1h30m`, `500ms`, `1.5h`), as Prow's config writes periods.

`Duration` is the pydantic field type: a Go duration string in YAML, seconds (float) in Python.
"""

from __future__ import annotations

import math
import re
from typing import Annotated

from pydantic import BeforeValidator

_UNITS: dict[str, float] = {
    "ns": 1e-9,
    "us": 1e-6,
    "\u00b5s": 1e-6,  # micro sign
    "\u03bcs": 1e-6,  # Greek mu
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_ELEMENT = re.compile(r"(\d+\.?\d*|\.\d+)([^\d.]*)")
_EXAMPLES = '"30s", "1m" or "1h30m"'
MAX_SECONDS = 365 * 24 * 3600.0  # no period tide keeps is longer; more is a typo or garbage


def parse_duration(text: str) -> float:
    """Seconds in a Go duration string; ValueError names what is wrong and the expected form."""
    body = text.strip()
    sign = 1.0
    if body[:1] in ("+", "-"):
        sign = -1.0 if body[0] == "-" else 1.0
        body = body[1:]
    if body == "0":
        return 0.0
    if not body:
        raise ValueError(f'"{text}" is not a duration; expected a Go duration such as {_EXAMPLES}')
    total = 0.0
    position = 0
    while position < len(body):
        match = _ELEMENT.match(body, position)
        if match is None:
            raise ValueError(
                f'"{text}" is not a duration; expected a Go duration such as {_EXAMPLES}'
            )
        number, unit = match.groups()
        if unit not in _UNITS:
            if not unit:
                raise ValueError(
                    f'"{text}" has a number without a unit; expected a Go duration such as '
                    f"{_EXAMPLES}"
                )
            raise ValueError(
                f'"{text}" has the unknown unit "{unit}"; use h, m, s, ms, us or ns '
                f"(e.g. {_EXAMPLES})"
            )
        total += float(number) * _UNITS[unit]
        position = match.end()
    return sign * total


def _to_seconds(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, str):
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise ValueError(
                f"expected a duration such as {_EXAMPLES}, got the bare number {value}; "
                f'add a unit (e.g. "{value}s")'
            )
        raise ValueError(f"expected a duration such as {_EXAMPLES}")
    seconds = parse_duration(value)
    if seconds < 0:
        raise ValueError(f'"{value}" is negative; a duration here must be zero or more')
    if not math.isfinite(seconds) or seconds > MAX_SECONDS:
        shown = value if len(value) <= 40 else value[:37] + "..."
        raise ValueError(
            f'"{shown}" is longer than a year (8760h), the most a duration here may be'
        )
    return seconds


Duration = Annotated[float, BeforeValidator(_to_seconds)]
