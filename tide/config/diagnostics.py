"""Pydantic's validation errors turned into `Problem`s a user can act on.

Each error's `loc` is mapped back onto the YAML data (dropping pydantic's union tags), so the key
path and line are the user's; unknown keys get the nearest known key as a suggestion.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Protocol, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from tide.config.problems import RULES_ERROR_TYPE, Issue, KeyPath, Problem
from tide.config.source import YamlDocument

_EXPECTED: dict[str, str] = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "float_type": "a number",
    "float_parsing": "a number",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


@dataclass(frozen=True, slots=True)
class _Finding:
    path: KeyPath
    message: str
    expected: str = ""  # set for a plain type mismatch, which unions may report several times
    via_union: bool = False
    value: object = None


class Located(Protocol):
    """The data that was validated, and how to report a problem at one of its key paths."""

    @property
    def data(self) -> object: ...

    def problem(self, path: KeyPath, message: str) -> Problem: ...


def validation_problems(
    error: ValidationError, doc: Located | YamlDocument, root: type[BaseModel]
) -> list[Problem]:
    findings: list[_Finding] = []
    for err in error.errors(include_url=False):
        kind = err["type"]
        path, via_union = _data_path(doc.data, err["loc"], missing=kind == "missing")
        ctx = err.get("ctx") or {}
        if kind == RULES_ERROR_TYPE:
            issues: Sequence[Issue] = ctx["issues"]
            findings += [_Finding((*path, *i.path), i.message) for i in issues]
        elif kind in _EXPECTED:
            findings.append(_Finding(path, "", _EXPECTED[kind], via_union, err["input"]))
        elif kind == "literal_error":
            findings.append(
                _Finding(path, f"expected {ctx['expected']}, got {_describe(err['input'])}")
            )
        elif kind == "extra_forbidden":
            findings.append(_Finding(path, _unknown_key(root, path)))
        elif kind == "missing":
            findings.append(_Finding(path, "required key is missing"))
        else:
            findings.append(_Finding(path, _plain_message(err["msg"])))
    return [doc.problem(f.path, f.message) for f in _merge_type_mismatches(findings)]


def _data_path(data: object, loc: tuple[int | str, ...], *, missing: bool) -> tuple[KeyPath, bool]:
    """The key path in the YAML data for a pydantic `loc`, and whether union tags were dropped."""
    path: list[int | str] = []
    current = data
    skipped = False
    for index, segment in enumerate(loc):
        in_mapping = (
            isinstance(current, Mapping) and isinstance(segment, str) and segment in current
        )
        in_list = isinstance(current, list) and isinstance(segment, int) and segment < len(current)
        if in_mapping or in_list:
            current = current[segment]  # type: ignore[index]
            path.append(segment)
        elif missing and index == len(loc) - 1:
            path.append(segment)
        else:
            skipped = True  # a union member's tag such as "str" or "dict[str,str]"
    return tuple(path), skipped


def _merge_type_mismatches(findings: list[_Finding]) -> list[_Finding]:
    """One message per value: a union's members each report a mismatch for the same value.

    A mismatch is dropped when another member got further (an error deeper in the same value),
    and the rest at one path become "expected a string or a mapping".
    """
    deeper = {f.path[:n] for f in findings for n in range(len(f.path))}
    merged: dict[KeyPath, list[_Finding]] = {}
    out: list[_Finding] = []
    for f in findings:
        if not f.expected:
            out.append(f)
        elif not (f.via_union and f.path in deeper):
            merged.setdefault(f.path, []).append(f)
    for path, group in merged.items():
        expected = " or ".join(dict.fromkeys(f.expected for f in group))
        value = group[0].value
        message = f"expected {expected}, got {_describe(value)}"
        if expected == "a string" and isinstance(value, bool | int | float | dt.date):
            message += "; quote it if it is meant as text"
        out.append(_Finding(path, message))
    return out


def _describe(value: object) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f'the string "{value}"'
    if isinstance(value, dt.date):
        return f"the date {value.isoformat()}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return type(value).__name__


def _plain_message(msg: str) -> str:
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            return msg[len(prefix) :]
    if msg.startswith("Input should"):
        return "should" + msg[len("Input should") :]
    return msg


def _unknown_key(root: type[BaseModel], path: KeyPath) -> str:
    model = _model_at(root, path[:-1])
    if model is None:
        return "unknown key"
    known = [field.alias or name for name, field in model.model_fields.items()]
    key = str(path[-1])
    # The root also takes `daemon:` and Prow's own sections, which are not fields of it.
    also: tuple[str, ...] = getattr(model, "other_top_level_keys", ()) if len(path) == 1 else ()
    guess = _nearest(key, [*known, *also])
    if guess is not None:
        return f'unknown key; did you mean "{guess}"?'
    homes = _key_homes(root).get(key)
    if homes:
        return f"unknown key here; it belongs under {' or '.join(homes)}"
    if also:
        return f"unknown key; expected one of: {', '.join(known)}, daemon or a section of Prow's"
    return f"unknown key; expected one of: {', '.join(known)}"


def _key_homes(root: type[BaseModel]) -> dict[str, list[str]]:
    """Every key the config knows -> where it may appear (`tide.queries[]`), for misplaced keys."""
    homes: dict[str, list[str]] = {}
    pending: list[tuple[object, str]] = [(root, "")]
    seen: set[object] = set()
    while pending:
        annotation, where = pending.pop(0)
        annotation = _unwrap(annotation, None)
        origin = get_origin(annotation)
        if origin in (list, tuple):
            pending.append((get_args(annotation)[0], f"{where}[]"))
        elif origin is dict:
            pending.append((get_args(annotation)[1], f"{where}.<name>"))
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation in seen:
                continue
            seen.add(annotation)
            for name, field in annotation.model_fields.items():
                key = field.alias or name
                homes.setdefault(key, []).append(where or "the top level")
                pending.append((field.annotation, f"{where}.{key}" if where else key))
    return homes


def _nearest(key: str, known: list[str]) -> str | None:
    def squash(name: str) -> str:
        return re.sub(r"[-_ ]", "", name.lower())

    for name in known:
        if squash(name) == squash(key):
            return name
    by_squashed = {squash(name): name for name in known}
    close = difflib.get_close_matches(squash(key), list(by_squashed), n=1, cutoff=0.6)
    return by_squashed[close[0]] if close else None


def _model_at(root: type[BaseModel], path: KeyPath) -> type[BaseModel] | None:
    """The model class that validates the mapping at `path`, following fields, lists and dicts."""
    current: object = root
    for segment in path:
        current = _unwrap(current, segment)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = next(
                (f for n, f in current.model_fields.items() if (f.alias or n) == segment), None
            )
            if field is None:
                return None
            current = field.annotation
        elif get_origin(current) in (list, tuple) and isinstance(segment, int):
            current = get_args(current)[0]
        elif get_origin(current) is dict and isinstance(segment, str):
            current = get_args(current)[1]
        else:
            return None
    current = _unwrap(current, None)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return current
    return None


def _unwrap(annotation: object, segment: int | str | None) -> object:
    """Strip Annotated and pick the union member that can hold `segment` (a model, dict or list)."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, types.UnionType):
        for member in get_args(annotation):
            member = _unwrap(member, segment)
            if isinstance(member, type) and issubclass(member, BaseModel):
                return member
            if get_origin(member) is dict and not isinstance(segment, int):
                return member
            if get_origin(member) in (list, tuple) and isinstance(segment, int):
                return member
    return annotation
