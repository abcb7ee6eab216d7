"""Go text/template's lexer: literal text and the tokens of each `{{ ... }}` action.

Follows `text/template/parse/lex.go`: `{{- ` / ` -}}` trim the whitespace beside them, comments
are `{{/* ... */}}`, and each token remembers its offset so errors can name line and column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SPACE = " \t\r\n"
KEYWORDS = frozenset(
    {"if", "else", "end", "range", "with", "define", "template", "block", "break", "continue"}
)

_NUMBER = re.compile(
    r"[+-]?(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+"
    r"|(?:[0-9][0-9_]*)?\.?[0-9_]*(?:[eE][+-]?[0-9_]+)?)i?"
)
_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


class TemplateError(ValueError):
    """A template that cannot be parsed or run; the message names it, the line and the column."""

    def __init__(self, name: str, detail: str, text: str = "", pos: int | None = None) -> None:
        where = ""
        if pos is not None:
            line = text.count("\n", 0, pos) + 1
            column = pos - (text.rfind("\n", 0, pos) + 1) + 1
            where = f" at line {line}, column {column}"
        super().__init__(f"{name}{where}: {detail}")
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Token:
    """One token of an action; `spaced` says whether whitespace came before it."""

    kind: str  # field dot variable ident keyword string number bool nil pipe ( ) := = ,
    value: object
    pos: int
    spaced: bool = True


@dataclass(frozen=True, slots=True)
class Text:
    value: str
    pos: int


@dataclass(frozen=True, slots=True)
class Action:
    tokens: tuple[Token, ...]
    pos: int


def lex(text: str, name: str) -> list[Text | Action]:
    """Split `text` into literal text and actions, trimming where markers ask for it."""
    items: list[Text | Action] = []
    trim_next = False
    pos = 0
    while True:
        start = text.find("{{", pos)
        chunk = text[pos:] if start < 0 else text[pos:start]
        if trim_next:
            stripped = chunk.lstrip(SPACE)
            pos += len(chunk) - len(stripped)
            chunk = stripped
        if start < 0:
            if chunk:
                items.append(Text(chunk, pos))
            return items
        inner = start + 2
        # "{{- " trims the text before; "{{-3}}" is the number -3, not a trim marker.
        if text[inner : inner + 1] == "-" and text[inner + 1 : inner + 2] in tuple(SPACE):
            chunk = chunk.rstrip(SPACE)
            inner += 2
        if chunk:
            items.append(Text(chunk, pos))
        if text.startswith("/*", inner):
            pos, trim_next = _skip_comment(text, inner, name)
            continue
        tokens, pos, trim_next = _action(text, inner, name)
        items.append(Action(tuple(tokens), start))


def _skip_comment(text: str, at: int, name: str) -> tuple[int, bool]:
    close = text.find("*/", at + 2)
    if close < 0:
        raise TemplateError(name, "unclosed comment", text, at)
    rest = close + 2
    if text.startswith("}}", rest):
        return rest + 2, False
    if text[rest : rest + 1] in tuple(SPACE) and text.startswith("-}}", rest + 1):
        return rest + 4, True
    raise TemplateError(name, "comment ends before closing delimiter", text, rest)


def _action(text: str, i: int, name: str) -> tuple[list[Token], int, bool]:
    """The tokens of the action starting at `i`, the offset after `}}`, and the trim flag."""
    tokens: list[Token] = []
    spaced = True
    depth = 0
    while True:
        if i >= len(text):
            raise TemplateError(name, "unclosed action", text, i)
        char = text[i]
        if char in SPACE:
            j = i
            while j < len(text) and text[j] in SPACE:
                j += 1
            if text.startswith("-}}", j):
                return tokens, j + 3, True
            i, spaced = j, True
            continue
        if text.startswith("}}", i):
            if depth:
                raise TemplateError(name, "unclosed left paren", text, i)
            return tokens, i + 2, False
        token, end = _token(text, i, name, spaced)
        if token.kind == "(":
            depth += 1
        elif token.kind == ")":
            if not depth:
                raise TemplateError(name, "unexpected right paren", text, i)
            depth -= 1
        tokens.append(token)
        i, spaced = end, False


def _token(text: str, i: int, name: str, spaced: bool) -> tuple[Token, int]:
    char = text[i]
    if text.startswith(":=", i):
        return Token(":=", ":=", i, spaced), i + 2
    if char in "|()=,":
        return Token(char, char, i, spaced), i + 1
    if char == '"':
        value, end = _quoted(text, i, name)
        return Token("string", value, i, spaced), end
    if char == "`":
        end = text.find("`", i + 1)
        if end < 0:
            raise TemplateError(name, "unterminated raw quoted string", text, i)
        return Token("string", text[i + 1 : end], i, spaced), end + 1
    if char == "'":
        value, end = _quoted(text, i, name, quote="'")
        if len(value) != 1:
            raise TemplateError(name, f"malformed character constant: {text[i:end]}", text, i)
        return Token("number", ord(value), i, spaced), end
    if char == "$":
        end = _word_end(text, i + 1)
        return Token("variable", text[i:end], i, spaced), end
    if char == "." and not text[i + 1 : i + 2].isdigit():
        end = _word_end(text, i + 1)
        if end == i + 1:
            return Token("dot", ".", i, spaced), end
        return Token("field", text[i + 1 : end], i, spaced), end
    if char.isdigit() or (char in "+-." and text[i + 1 : i + 2][:1].isdigit()):
        return _number(text, i, name, spaced)
    if char.isalpha() or char == "_":
        end = _word_end(text, i)
        word = text[i:end]
        if word in ("true", "false"):
            return Token("bool", word == "true", i, spaced), end
        if word == "nil":
            return Token("nil", None, i, spaced), end
        return Token("keyword" if word in KEYWORDS else "ident", word, i, spaced), end
    raise TemplateError(name, f"unrecognized character in action: {char!r}", text, i)


def _word_end(text: str, i: int) -> int:
    while i < len(text) and (text[i].isalnum() or text[i] == "_"):
        i += 1
    return i


def _number(text: str, i: int, name: str, spaced: bool) -> tuple[Token, int]:
    match = _NUMBER.match(text, i)
    end = match.end() if match else i
    while end < len(text) and (text[end].isalnum() or text[end] == "."):
        end += 1  # Go's lexer takes the whole run and then complains about it
    literal = text[i:end].replace("_", "")
    value: object
    try:
        if literal.endswith("i"):
            value = complex(0, float(literal[:-1]))
        elif re.fullmatch(r"[+-]?0[xX][0-9a-fA-F]+", literal):
            value = int(literal, 16)
        elif re.fullmatch(r"[+-]?0[bB][01]+", literal):
            value = int(literal, 2)
        elif re.fullmatch(r"[+-]?0[oO]?[0-7]+", literal) and literal.lstrip("+-") != "0":
            value = int(literal.replace("o", "").replace("O", ""), 8)
        elif re.fullmatch(r"[+-]?[0-9]+", literal):
            value = int(literal)
        else:
            value = float(literal)
    except ValueError:
        raise TemplateError(name, f'bad number syntax: "{text[i:end]}"', text, i) from None
    return Token("number", value, i, spaced), end


def _quoted(text: str, i: int, name: str, quote: str = '"') -> tuple[str, int]:
    """A Go interpreted string (or rune) literal starting at `i`: its value and the end."""
    out: list[str] = []
    j = i + 1
    while True:
        if j >= len(text) or text[j] == "\n":
            what = "string" if quote == '"' else "character constant"
            raise TemplateError(name, f"unterminated quoted {what}", text, i)
        char = text[j]
        if char == quote:
            return "".join(out), j + 1
        if char != "\\":
            out.append(char)
            j += 1
            continue
        code = text[j + 1 : j + 2]
        if code in _ESCAPES:
            out.append(_ESCAPES[code])
            j += 2
        elif code in ("\\", quote):
            out.append(code)
            j += 2
        elif code in ("x", "u", "U"):
            width = {"x": 2, "u": 4, "U": 8}[code]
            digits = text[j + 2 : j + 2 + width]
            if len(digits) != width or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise TemplateError(name, "invalid syntax in quoted string", text, j)
            value = int(digits, 16)
            # \xNN is a byte in Go; bytes >= 0x80 alone are not valid UTF-8 text here.
            out.append(chr(value))
            j += 2 + width
        elif code in "01234567" and code:
            digits = text[j + 1 : j + 4]
            if len(digits) != 3 or not all(c in "01234567" for c in digits):
                raise TemplateError(name, "invalid syntax in quoted string", text, j)
            out.append(chr(int(digits, 8)))
            j += 4
        else:
            raise TemplateError(name, f"unknown escape sequence: \\{code}", text, j)
