"""Running a parsed Go template: Go's truth, comparison and builtin functions over Python values."""

from __future__ import annotations

import html as html_lib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus

from tide.gotemplate.gofmt import Struct, format_value, sprint, sprintf, sprintln, type_name
from tide.gotemplate.lex import TemplateError, Text
from tide.gotemplate.parse import (
    Branch,
    Command,
    Dot,
    Field,
    Function,
    Literal,
    LoopControl,
    Output,
    Pipe,
    Variable,
)

_MISSING = object()
_MAX_OUTPUT = 1 << 20  # a commit message; a runaway range stops here
_MAX_RANGE = 100_000
_MAX_STEPS = 1_000_000  # nested ranges over long values would otherwise run for hours


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _Fail(Exception):
    def __init__(self, detail: str, pos: int) -> None:
        super().__init__(detail)
        self.detail = detail
        self.pos = pos


def truth(value: object) -> bool:
    """Go's `isTrue`: false, 0, nil and empty strings, slices and maps are false."""
    if value is None:
        return False
    if isinstance(value, Struct | datetime):
        return True
    if isinstance(value, bool | int | float | complex | str | Sequence | Mapping):
        return bool(value)
    return True


@dataclass
class _Run:
    text: str
    name: str
    out: list[str] = field(default_factory=list)
    size: int = 0
    steps: int = 0
    variables: list[tuple[str, object]] = field(default_factory=list)

    def write(self, chunk: str, pos: int) -> None:
        self.size += len(chunk)
        if self.size > _MAX_OUTPUT:
            raise _Fail("output is longer than 1 MiB", pos)
        self.out.append(chunk)

    def walk(self, nodes: Sequence[object], dot: object) -> None:
        for node in nodes:
            self.steps += 1
            if self.steps > _MAX_STEPS:
                raise _Fail(f"ran more than {_MAX_STEPS} steps; stopped", _pos(node))
            if isinstance(node, Text):
                self.write(node.value, node.pos)
            elif isinstance(node, Output):
                value = self.pipe(node.pipe, dot)
                if not node.pipe.decl:
                    self.write(_printed(value), node.pipe.pos)
            elif isinstance(node, Branch):
                self.branch(node, dot)
            elif isinstance(node, LoopControl):
                raise _Break() if node.kind == "break" else _Continue()

    def branch(self, node: Branch, dot: object) -> None:
        mark = len(self.variables)
        try:
            value = self.pipe(node.pipe, dot)
            if node.kind == "range":
                self.range(node, value, dot)
            elif truth(value):
                self.walk(node.body, value if node.kind == "with" else dot)
            else:
                self.walk(node.otherwise, dot)
        finally:
            del self.variables[mark:]

    def range(self, node: Branch, value: object, dot: object) -> None:
        items: list[tuple[object, object]]
        if value is None:
            items = []
        elif isinstance(value, Mapping) and not isinstance(value, Struct):
            items = sorted(value.items(), key=lambda kv: str(kv[0]))
        elif isinstance(value, bool | Struct | str | datetime):
            raise _Fail(f"range can't iterate over {format_value(value)}", node.pipe.pos)
        elif isinstance(value, int):
            if value > _MAX_RANGE:
                raise _Fail(f"range over {value} is too long", node.pipe.pos)
            items = [(i, i) for i in range(value)]
        elif isinstance(value, Sequence):
            items = list(enumerate(value))
        else:
            raise _Fail(f"range can't iterate over {format_value(value)}", node.pipe.pos)
        if not items:
            self.walk(node.otherwise, dot)
            return
        decl = node.pipe.decl
        mark = len(self.variables)
        for key, element in items:
            self.steps += 1
            if self.steps > _MAX_STEPS:
                raise _Fail(f"ran more than {_MAX_STEPS} steps; stopped", node.pipe.pos)
            if len(decl) == 2:
                self.set(decl[0], key, node.pipe.assign)
                self.set(decl[1], element, node.pipe.assign)
            elif decl:
                self.set(decl[0], element, node.pipe.assign)
            try:
                self.walk(node.body, element)
            except _Break:
                break
            except _Continue:
                continue
            finally:
                del self.variables[mark:]

    def set(self, name: str, value: object, assign: bool) -> None:
        if assign:
            for i in range(len(self.variables) - 1, -1, -1):
                if self.variables[i][0] == name:
                    self.variables[i] = (name, value)
                    return
        self.variables.append((name, value))

    def lookup(self, name: str, pos: int) -> object:
        for var, value in reversed(self.variables):
            if var == name:
                return value
        raise _Fail(f'undefined variable "{name}"', pos)

    def pipe(self, pipe: Pipe, dot: object) -> object:
        value: object = _MISSING
        for command in pipe.commands:
            value = self.command(command, dot, value)
        if pipe.decl and len(pipe.decl) == 1:
            self.set(pipe.decl[0], value, pipe.assign)
        elif pipe.decl and len(pipe.decl) == 2:
            # outside a range, `$a, $b := x` is refused by the parser; nothing to do here
            pass
        return value

    def command(self, command: Command, dot: object, final: object) -> object:
        first, args = command.args[0], list(command.args[1:])
        if isinstance(first, Function):
            return self.call(first, args, dot, final)
        if args or final is not _MISSING:
            if isinstance(first, Field):
                self.evaluate(first, dot)  # an unknown field is reported as such first
                name = first.names[-1]
                raise _Fail(f"{name} has arguments but cannot be invoked as function", first.pos)
            raise _Fail(f"can't give argument to non-function {_describe(first)}", command.pos)
        return self.evaluate(first, dot)

    def evaluate(self, node: object, dot: object) -> object:
        if isinstance(node, Literal):
            if node.kind == "nil":
                raise _Fail("nil is not a command", node.pos)
            return node.value
        if isinstance(node, Dot):
            return dot
        if isinstance(node, Variable):
            return self.lookup(node.name, node.pos)
        if isinstance(node, Pipe):
            return self.pipe(node, dot)
        if isinstance(node, Field):
            receiver = dot
            if isinstance(node.receiver, Variable):
                receiver = self.lookup(node.receiver.name, node.receiver.pos)
            elif isinstance(node.receiver, Pipe):
                receiver = self.pipe(node.receiver, dot)
            for name in node.names:
                receiver = _field(receiver, name, node.pos)
            return receiver
        if isinstance(node, Function):
            return self.call(node, [], dot, _MISSING)
        raise _Fail(f"can't evaluate {node!r}", _pos(node))

    def call(self, func: Function, args: list[object], dot: object, final: object) -> object:
        def values() -> list[object]:
            out = [self.evaluate(a, dot) for a in args]
            return out if final is _MISSING else [*out, final]

        name = func.name
        try:
            if name in ("and", "or"):
                return self.logic(name, args, dot, final, func.pos)
            return _BUILTINS[name](values())
        except _ArgError as exc:
            raise _Fail(f"error calling {name}: {exc}", func.pos) from None

    def logic(self, name: str, args: list[object], dot: object, final: object, pos: int) -> object:
        count = len(args) + (final is not _MISSING)
        if count < 1:
            raise _Fail(f"wrong number of args for {name}: want at least 1 got 0", pos)
        value: object = None
        for i in range(count):
            value = self.evaluate(args[i], dot) if i < len(args) else final
            if truth(value) != (name == "and"):
                return value
        return value


class _ArgError(Exception):
    pass


def _pos(node: object) -> int:
    return int(getattr(node, "pos", 0))


def _describe(node: object) -> str:
    if isinstance(node, Literal):
        return format_value(node.value) if node.kind != "string" else f'"{node.value}"'
    if isinstance(node, Variable):
        return node.name
    if isinstance(node, Dot):
        return "."
    return "(pipeline)"


def _field(receiver: object, name: str, pos: int) -> object:
    if isinstance(receiver, Struct):
        if name not in receiver.fields:
            raise _Fail(f"can't evaluate field {name} in type {receiver.type_name}", pos)
        return receiver.fields[name]
    if isinstance(receiver, Mapping):
        # A Go map: a missing key is the zero value ("<no value>" when printed).
        return receiver.get(name)
    if receiver is None:
        raise _Fail(f"nil pointer evaluating interface {{}}.{name}", pos)
    raise _Fail(f"can't evaluate field {name} in type {type_name(receiver)}", pos)


def _printed(value: object) -> str:
    if value is _MISSING or value is None:
        return "<no value>"
    return format_value(value)


def _kind(value: object) -> str:
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, complex):
        return "complex"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping | list | tuple):
        return "uncomparable"
    return "other"


def _eq(args: list[object]) -> bool:
    if len(args) < 2:
        raise _ArgError("missing argument for comparison")
    first = args[0]
    for other in args[1:]:
        a, b = _kind(first), _kind(other)
        if "uncomparable" in (a, b):
            raise _ArgError(f"non-comparable type {format_value(first)}: {type_name(first)}")
        if a != b and "nil" not in (a, b):
            raise _ArgError("incompatible types for comparison")
        if first == other:
            return True
    return False


def _ne(args: list[object]) -> bool:
    if len(args) != 2:
        raise _ArgError(f"wrong number of args for ne: want 2 got {len(args)}")
    return not _eq(args)


def _ordered(name: str, test: Callable[[Any, Any], bool]) -> Callable[[list[object]], bool]:
    def compare(args: list[object]) -> bool:
        if len(args) != 2:
            raise _ArgError(f"wrong number of args for {name}: want 2 got {len(args)}")
        a, b = _kind(args[0]), _kind(args[1])
        if a not in ("int", "float", "string") or b not in ("int", "float", "string"):
            raise _ArgError("invalid type for comparison")
        if a != b:
            raise _ArgError("incompatible types for comparison")
        return test(args[0], args[1])

    return compare


def _len(args: list[object]) -> int:
    if len(args) != 1:
        raise _ArgError(f"wrong number of args for len: want 1 got {len(args)}")
    value = args[0]
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, Mapping | list | tuple) and not isinstance(value, Struct):
        return len(value)
    raise _ArgError(f"len of type {type_name(value)}")


def _index(args: list[object]) -> object:
    if not args:
        raise _ArgError("wrong number of args for index: want at least 1 got 0")
    value = args[0]
    for key in args[1:]:
        if isinstance(value, Mapping) and not isinstance(value, Struct):
            value = value.get(key)
        elif isinstance(value, str | list | tuple):
            if not isinstance(key, int) or isinstance(key, bool):
                raise _ArgError(f"cannot index slice/array with type {type_name(key)}")
            items = value.encode() if isinstance(value, str) else value
            if not 0 <= key < len(items):
                raise _ArgError(f"index out of range: {key}")
            value = items[key]
        elif value is None:
            raise _ArgError("index of untyped nil")
        else:
            raise _ArgError(f"can't index item of type {type_name(value)}")
    return value


def _slice(args: list[object]) -> object:
    if not args:
        raise _ArgError("wrong number of args for slice: want at least 1 got 0")
    value, bounds = args[0], args[1:]
    if not isinstance(value, str | list | tuple):
        raise _ArgError(f"can't slice item of type {type_name(value)}")
    if len(bounds) > 2 + (not isinstance(value, str)) or not all(
        isinstance(b, int) and not isinstance(b, bool) for b in bounds
    ):
        raise _ArgError("invalid slice indexes")
    size = len(value.encode()) if isinstance(value, str) else len(value)
    low = int(bounds[0]) if bounds else 0  # type: ignore[call-overload]
    high = int(bounds[1]) if len(bounds) > 1 else size  # type: ignore[call-overload]
    if not 0 <= low <= high <= size:
        raise _ArgError(f"index out of range: {high if high > size else low}")
    if isinstance(value, str):
        return value.encode()[low:high].decode(errors="replace")
    return list(value[low:high])


def _not(args: list[object]) -> bool:
    if len(args) != 1:
        raise _ArgError(f"wrong number of args for not: want 1 got {len(args)}")
    return not truth(args[0])


def _printf(args: list[object]) -> str:
    if not args or not isinstance(args[0], str):
        raise _ArgError("printf needs a format string")
    return sprintf(args[0], args[1:])


def _js(args: list[object]) -> str:
    out = []
    for char in sprint(args):
        if char in "\\'\"":
            out.append("\\" + char)
        elif char in "<>&=" or ord(char) < 0x20:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return "".join(out)


def _html(text: str) -> str:
    return html_lib.escape(text).replace("&#x27;", "&#39;").replace("&quot;", "&#34;")


def _call(args: list[object]) -> object:
    raise _ArgError("call of non-function: no function values in a merge commit template")


_BUILTINS: dict[str, Callable[[list[object]], object]] = {
    "not": _not,
    "eq": _eq,
    "ne": _ne,
    "lt": _ordered("lt", lambda a, b: a < b),
    "le": _ordered("le", lambda a, b: a <= b),
    "gt": _ordered("gt", lambda a, b: a > b),
    "ge": _ordered("ge", lambda a, b: a >= b),
    "len": _len,
    "index": _index,
    "slice": _slice,
    "print": sprint,
    "println": sprintln,
    "printf": _printf,
    "html": lambda args: _html(sprint(args)),
    "js": _js,
    "urlquery": lambda args: quote_plus(sprint(args)),
    "call": _call,
}


def execute(nodes: tuple[object, ...], data: object, text: str, name: str) -> str:
    """Run the template over `data` (dot); raises `TemplateError` naming where it failed."""
    run = _Run(text, name, variables=[("$", data)])
    try:
        run.walk(nodes, data)
    except _Fail as exc:
        raise TemplateError(name, exc.detail, text, exc.pos) from None
    except RecursionError:
        raise TemplateError(name, "nested too deeply", text, 0) from None
    return "".join(run.out)
