"""Go's fmt for template values: `print`, `println`, `printf` and how an action prints a value.

Values are Python's: str, int, float, bool, None (nil), list, dict, datetime and `Struct`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class Struct:
    """A Go struct: fields by name (a missing one is an error, unlike a map's missing key)."""

    type_name: str
    fields: Mapping[str, Any]


def type_name(value: object) -> str:
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, complex):
        return "complex128"
    if isinstance(value, str):
        return "string"
    if isinstance(value, datetime):
        return "time.Time"
    if isinstance(value, Struct):
        return value.type_name
    if isinstance(value, Mapping):
        return "map[string]interface {}"
    if isinstance(value, Sequence):
        return "[]interface {}"
    return type(value).__name__


def go_time(value: datetime) -> str:
    """Go's `Time.String()`: "2006-01-02 15:04:05.999999999 -0700 MST", fraction trimmed."""
    text = value.strftime("%Y-%m-%d %H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    offset = value.strftime("%z") or "+0000"
    zone = value.tzname() or "UTC"
    if zone.startswith("UTC") and zone != "UTC":
        zone = offset
    return f"{text} {offset} {zone}"


def float_g(value: float, upper: bool = False) -> str:
    """strconv.FormatFloat(v, 'g', -1, 64): shortest digits; exponent from 1e6 or below 1e-4."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    sign = "-" if value < 0 else ""
    digits_tuple = Decimal(repr(abs(value))).as_tuple()
    digits = "".join(map(str, digits_tuple.digits)).rstrip("0") or "0"
    exponent = int(digits_tuple.exponent)
    point = len("".join(map(str, digits_tuple.digits))) + exponent  # digits before the point
    exp = point - 1
    if exp < -4 or exp >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        e = "E" if upper else "e"
        return f"{sign}{mantissa}{e}{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def format_value(value: object, plus: bool = False) -> str:
    """The `%v` form (`%+v` names struct fields)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return float_g(value)
    if isinstance(value, complex):
        return f"({float_g(value.real)}{'+' if value.imag >= 0 else ''}{float_g(value.imag)}i)"
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return go_time(value)
    if isinstance(value, Struct):
        prefix = "{}:" if plus else ""
        parts = [prefix.format(k) + format_value(v, plus) for k, v in value.fields.items()]
        return "{" + " ".join(parts) + "}"
    if isinstance(value, Mapping):
        items = sorted(value.items(), key=lambda kv: str(kv[0]))
        inner = " ".join(f"{k}:{format_value(v, plus)}" for k, v in items)
        return f"map[{inner}]"
    if isinstance(value, Sequence):
        return "[" + " ".join(format_value(v, plus) for v in value) + "]"
    return str(value)


def sprint(args: Sequence[object]) -> str:
    """fmt.Sprint: a space between two operands when neither is a string."""
    out = []
    for i, arg in enumerate(args):
        if i and not isinstance(arg, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(format_value(arg))
    return "".join(out)


def sprintln(args: Sequence[object]) -> str:
    return " ".join(format_value(a) for a in args) + "\n"


def quote(text: str) -> str:
    """strconv.Quote: printable characters kept, the rest escaped."""
    out = ['"']
    named = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
    named |= {"\v": "\\v", "\\": "\\\\", '"': '\\"'}
    for char in text:
        if char in named:
            out.append(named[char])
        elif char.isprintable() or char == " ":
            out.append(char)
        elif ord(char) < 0x80:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    out.append('"')
    return "".join(out)


# Go's fmt ignores widths and precisions over a million ("tooLarge"); so a format string
# that came from a PR's title cannot make a gigabyte of padding.
_MAX_WIDTH = 1_000_000
_VERB = re.compile(r"%([-+# 0]*)(\*|\d+)?(?:\.(\*|\d+)?)?(.)", re.S)


@dataclass
class _Spec:
    flags: str
    width: int | None
    precision: int | None
    verb: str


def sprintf(fmt: str, args: Sequence[object]) -> str:
    """fmt.Sprintf for the verbs templates use; Go's `%!verb(type=value)` marks for mistakes."""
    out: list[str] = []
    used = 0
    pos = 0
    for match in _VERB.finditer(fmt):
        out.append(fmt[pos : match.start()])
        pos = match.end()
        flags, width, precision, verb = match.groups()
        if verb == "%" and not flags and width is None:
            out.append("%")
            continue
        spec = _Spec(flags, None, None, verb)
        for part, attr in ((width, "width"), (precision, "precision")):
            if part == "*":
                value = args[used] if used < len(args) else None
                used += 1
                number = value if isinstance(value, int) and not isinstance(value, bool) else None
                if number is not None and abs(number) <= _MAX_WIDTH:
                    setattr(spec, attr, abs(number))
                    if attr == "width" and number < 0:
                        spec.flags += "-"
                else:
                    out.append("%!(BADWIDTH)" if attr == "width" else "%!(BADPREC)")
            elif part is not None and int(part) <= _MAX_WIDTH:
                setattr(spec, attr, int(part))
        if precision is None and "." in match.group(0)[:-1]:
            spec.precision = spec.precision or 0  # "%.f": precision zero
        if used >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        out.append(_pad(_one(spec, args[used]), spec))
        used += 1
    out.append(fmt[pos:])
    if "%" in fmt[pos:] and fmt.endswith("%"):
        out[-1] = out[-1][:-1] + "%!(NOVERB)"
    if used < len(args):
        extra = ", ".join(f"{type_name(a)}={format_value(a)}" for a in args[used:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def _pad(text: str, spec: _Spec) -> str:
    if spec.width is None or len(text) >= spec.width:
        return text
    if "-" in spec.flags:
        return text.ljust(spec.width)
    if "0" in spec.flags and spec.verb in "dbBoOxXeEfFgG" and text[:1] in "+-":
        return text[0] + text[1:].rjust(spec.width - 1, "0")
    if "0" in spec.flags and spec.verb in "dbBoOxXeEfFgGvs":
        return text.rjust(spec.width, "0")
    return text.rjust(spec.width)


def _bad(spec: _Spec, value: object) -> str:
    return f"%!{spec.verb}({type_name(value)}={format_value(value)})"


def _one(spec: _Spec, value: object) -> str:
    verb, flags, prec = spec.verb, spec.flags, spec.precision
    if verb == "v":
        return format_value(value, plus="+" in flags) if "#" not in flags else _go_syntax(value)
    if verb == "T":
        return type_name(value)
    if verb == "t":
        return format_value(value) if isinstance(value, bool) else _bad(spec, value)
    if isinstance(value, bool) or value is None:
        return _bad(spec, value)
    if isinstance(value, int):
        return _integer(spec, value)
    if isinstance(value, float):
        return _float(spec, value)
    if isinstance(value, str):
        if verb == "s":
            return value if prec is None else value[:prec]
        if verb == "q":
            return quote(value if prec is None else value[:prec])
        if verb in "xX":
            data = value.encode()
            sep = " " if " " in flags else ""
            text = sep.join(f"{b:02x}" for b in data)
            return text.upper() if verb == "X" else text
        return _bad(spec, value)
    if verb in "sq" and isinstance(value, datetime):
        return quote(go_time(value)) if verb == "q" else go_time(value)
    if verb == "s":
        return format_value(value)
    return _bad(spec, value)


def _integer(spec: _Spec, value: int) -> str:
    verb, flags = spec.verb, spec.flags
    if verb == "c":
        return chr(value)
    if verb == "q":
        return "'" + quote(chr(value))[1:-1].replace("'", "\\'").replace('\\"', '"') + "'"
    if verb == "U":
        return f"U+{value:04X}"
    if verb in "eEfFgG":
        return _float(spec, float(value))
    bases = {"d": (10, ""), "b": (2, "0b"), "o": (8, "0"), "O": (8, "0o"), "x": (16, "0x")}
    bases["X"] = (16, "0X")
    if verb not in bases:
        return _bad(spec, value)
    base, prefix = bases[verb]
    digits = format(abs(value), {10: "d", 2: "b", 8: "o", 16: "x"}[base])
    if verb == "X":
        digits = digits.upper()
    if spec.precision is not None:
        digits = digits.rjust(spec.precision, "0")
    if verb == "O" or ("#" in flags and verb != "d"):
        digits = prefix + digits
    sign = "-" if value < 0 else ("+" if "+" in flags else (" " if " " in flags else ""))
    return sign + digits


def _float(spec: _Spec, value: float) -> str:
    verb, flags, prec = spec.verb, spec.flags, spec.precision
    if math.isinf(value) or math.isnan(value):
        text = float_g(value)
    elif verb in "fF":
        text = f"{value:.{6 if prec is None else prec}f}"
    elif verb in "eE":
        text = f"{value:.{6 if prec is None else prec}e}"
        text = text.upper() if verb == "E" else text
    elif verb in "gG" and prec is None:
        text = float_g(value, upper=verb == "G")
    elif verb in "gG":
        text = f"{value:.{prec}{verb}}"
    else:
        return _bad(spec, value)
    if "+" in flags and not text.startswith("-") and not text.startswith("+"):
        text = "+" + text
    return text


def _go_syntax(value: object) -> str:
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, Struct):
        inner = ", ".join(f"{k}:{_go_syntax(v)}" for k, v in value.fields.items())
        return f"{value.type_name}{{{inner}}}"
    if isinstance(value, list | tuple):
        return "[]interface {}{" + ", ".join(_go_syntax(v) for v in value) + "}"
    return format_value(value)
