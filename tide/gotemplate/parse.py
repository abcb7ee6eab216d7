"""Go text/template's parser: the node tree of `{{ if }}`, `{{ range }}`, pipelines and the rest.

Checked as Go checks at parse time: undefined variables and functions, a missing `{{ end }}`,
`{{ break }}` outside a range. `define`/`template`/`block` are refused (one template per key).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tide.gotemplate.lex import Action, TemplateError, Text, Token, lex

FUNCTIONS = frozenset(
    {
        "and", "or", "not", "eq", "ne", "lt", "le", "gt", "ge", "len", "index", "slice",
        "print", "printf", "println", "html", "js", "urlquery", "call",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Field:
    """`.A.B` (on dot), or a chain of fields after a variable or parenthesised pipeline."""

    names: tuple[str, ...]
    pos: int
    receiver: object = None  # None = dot; else a Variable or Pipe node


@dataclass(frozen=True, slots=True)
class Variable:
    name: str
    pos: int


@dataclass(frozen=True, slots=True)
class Literal:
    value: object
    pos: int
    kind: str  # string number bool nil


@dataclass(frozen=True, slots=True)
class Dot:
    pos: int


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    pos: int


@dataclass(frozen=True, slots=True)
class Command:
    args: tuple[object, ...]
    pos: int


@dataclass(frozen=True, slots=True)
class Pipe:
    commands: tuple[Command, ...]
    pos: int
    decl: tuple[str, ...] = ()
    assign: bool = False  # `$x = ...` sets an existing variable instead of declaring one


@dataclass(frozen=True, slots=True)
class Output:
    pipe: Pipe


@dataclass(frozen=True, slots=True)
class Branch:
    kind: str  # if with range
    pipe: Pipe
    body: tuple[object, ...]
    otherwise: tuple[object, ...] = ()


@dataclass(frozen=True, slots=True)
class LoopControl:
    kind: str  # break continue
    pos: int


@dataclass
class _Parser:
    text: str
    name: str
    items: list[Text | Action]
    at: int = 0
    variables: list[str] = field(default_factory=lambda: ["$"])
    loops: int = 0

    def error(self, detail: str, pos: int) -> TemplateError:
        return TemplateError(self.name, detail, self.text, pos)

    def block(self, inside: str | None) -> tuple[list[object], Action | None]:
        """Nodes up to the `else`/`end` that closes `inside` (returned), or the end of text."""
        nodes: list[object] = []
        while self.at < len(self.items):
            item = self.items[self.at]
            self.at += 1
            if isinstance(item, Text):
                nodes.append(item)
                continue
            tokens = item.tokens
            if not tokens:
                raise self.error("missing value for command", item.pos)
            head = tokens[0]
            if head.kind == "keyword" and head.value in ("else", "end"):
                if inside is None:
                    raise self.error(f"unexpected {{{{{head.value}}}}}", head.pos)
                return nodes, item
            if head.kind == "keyword":
                nodes.append(self.keyword(item, head))
            else:
                nodes.append(Output(self.pipeline(list(tokens), item.pos, "command")))
        if inside is not None:
            raise self.error(f"unexpected EOF: {{{{{inside}}}}} has no {{{{end}}}}", len(self.text))
        return nodes, None

    def keyword(self, item: Action, head: Token) -> object:
        word = str(head.value)
        if word in ("break", "continue"):
            if len(item.tokens) > 1:
                raise self.error(f"unexpected {item.tokens[1].value!r} in {word}", head.pos)
            if not self.loops:
                raise self.error(f"{{{{{word}}}}} outside {{{{range}}}}", head.pos)
            return LoopControl(word, head.pos)
        if word in ("if", "with", "range"):
            return self.branch(word, list(item.tokens[1:]), head.pos)
        raise self.error(f"{{{{{word}}}}} is not supported in a merge commit template", head.pos)

    def branch(self, kind: str, tokens: list[Token], pos: int) -> Branch:
        mark = len(self.variables)
        pipe = self.pipeline(tokens, pos, kind, allow_pair=kind == "range")
        if kind == "range":
            self.loops += 1
        body, closing = self.block(kind)
        if kind == "range":
            self.loops -= 1
        assert closing is not None
        otherwise: list[object] = []
        words = closing.tokens
        if words[0].value == "else":
            rest = list(words[1:])
            if rest and rest[0].kind == "keyword" and rest[0].value in ("if", "with"):
                if kind == "range" or rest[0].value != kind:
                    raise self.error(f"unexpected {{{{else {rest[0].value}}}}}", rest[0].pos)
                # `{{else if x}}` is `{{else}}{{if x}}...{{end}}` sharing the one `{{end}}`.
                otherwise = [self.branch(kind, rest[1:], rest[0].pos)]
            elif rest:
                raise self.error(f"unexpected {rest[0].value!r} in else", rest[0].pos)
            else:
                otherwise, last = self.block(kind)
                assert last is not None
                if last.tokens[0].value != "end" or len(last.tokens) > 1:
                    raise self.error("expected {{end}}", last.pos)
        elif len(words) > 1:
            raise self.error(f"unexpected {words[1].value!r} in end", words[1].pos)
        del self.variables[mark:]
        return Branch(kind, pipe, tuple(body), tuple(otherwise))

    def pipeline(
        self, tokens: list[Token], pos: int, context: str, *, allow_pair: bool = False
    ) -> Pipe:
        decl: list[str] = []
        assign = False
        if len(tokens) >= 2 and tokens[0].kind == "variable":
            if tokens[1].kind in (":=", "="):
                decl, assign = [str(tokens[0].value)], tokens[1].kind == "="
                tokens = tokens[2:]
            elif (
                allow_pair
                and tokens[1].kind == ","
                and len(tokens) >= 4
                and tokens[2].kind == "variable"
                and tokens[3].kind in (":=", "=")
            ):
                decl = [str(tokens[0].value), str(tokens[2].value)]
                assign = tokens[3].kind == "="
                tokens = tokens[4:]
            elif tokens[1].kind == ",":
                raise self.error(f"too many declarations in {context}", tokens[1].pos)
        if not tokens:
            raise self.error(f"missing value for {context}", pos)
        commands: list[Command] = []
        current: list[object] = []
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if token.kind == "|":
                if not current:
                    raise self.error("missing command before |", token.pos)
                commands.append(Command(tuple(current), _pos(current[0])))
                current = []
                i += 1
                continue
            operand, i = self.operand(tokens, i)
            current.append(operand)
        if not current:
            raise self.error("missing command after |", tokens[-1].pos)
        commands.append(Command(tuple(current), _pos(current[0])))
        for later in commands[1:]:
            first = later.args[0]
            if isinstance(first, Literal):
                detail = f"non executable command in pipeline stage {first.value!r}"
                raise self.error(detail, first.pos)
        for name in decl:
            if assign and name not in self.variables:
                raise self.error(f'undefined variable "{name}"', pos)
            if not assign:
                self.variables.append(name)
        return Pipe(tuple(commands), pos, tuple(decl), assign)

    def operand(self, tokens: list[Token], i: int) -> tuple[object, int]:
        token = tokens[i]
        node: object
        kind = token.kind
        if kind == "field":
            names, i = self.chain(tokens, i)
            return Field(names, token.pos), i
        if kind == "dot":
            node, i = Dot(token.pos), i + 1
        elif kind == "variable":
            if token.value not in self.variables:
                raise self.error(f'undefined variable "{token.value}"', token.pos)
            node, i = Variable(str(token.value), token.pos), i + 1
        elif kind in ("string", "number", "bool", "nil"):
            node, i = Literal(token.value, token.pos, kind), i + 1
        elif kind == "ident":
            if token.value not in FUNCTIONS:
                raise self.error(f'function "{token.value}" not defined', token.pos)
            node, i = Function(str(token.value), token.pos), i + 1
        elif kind == "(":
            depth, j = 1, i + 1
            while depth:
                depth += {"(": 1, ")": -1}.get(tokens[j].kind, 0)
                j += 1
            node = self.pipeline(tokens[i + 1 : j - 1], token.pos, "parenthesized pipeline")
            i = j
        else:
            raise self.error(f"unexpected {token.value!r} in operand", token.pos)
        if i < len(tokens) and tokens[i].kind == "field" and not tokens[i].spaced:
            if isinstance(node, Literal | Function):
                raise self.error(f"unexpected . after term {token.value!r}", tokens[i].pos)
            names, i = self.chain(tokens, i)
            return Field(names, token.pos, None if isinstance(node, Dot) else node), i
        return node, i

    @staticmethod
    def chain(tokens: list[Token], i: int) -> tuple[tuple[str, ...], int]:
        names = [str(tokens[i].value)]
        i += 1
        while i < len(tokens) and tokens[i].kind == "field" and not tokens[i].spaced:
            names.append(str(tokens[i].value))
            i += 1
        return tuple(names), i


def _pos(node: object) -> int:
    return int(getattr(node, "pos", 0))


def parse(text: str, name: str) -> tuple[object, ...]:
    """The node tree of `text`; raises `TemplateError` naming `name`, line and column."""
    parser = _Parser(text, name, lex(text, name))
    nodes, _ = parser.block(None)
    return tuple(nodes)
