"""Reading config YAML into plain data plus the line of every key path.

PyYAML silently keeps the last of two equal keys; here that is a problem. Mapping keys are kept as
the text the user wrote (as Prow's YAML-to-JSON step does), so `1:` is the key "1", not the int 1.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from tide.config.problems import KeyPath, Problem, format_path

_MERGE_KEY = "tag:yaml.org,2002:merge"
# How many nodes aliases may add once expanded. Sharing a label list or a query through an
# anchor adds a few hundred; a 400-byte "billion laughs" adds a billion, and everything after
# parsing (line numbers, validation, each hot reload inside the sync lock) walks them all.
MAX_ALIAS_EXPANSION = 50_000


class _ConfigLoader(yaml.SafeLoader):
    """SafeLoader whose mapping keys stay the scalar text, as in Prow's YAML -> JSON step."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[str, object]:  # type: ignore[override]
        self.flatten_mapping(node)
        mapping: dict[str, object] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    "found a key that is not a plain value",
                    key_node.start_mark,
                )
            mapping[key_node.value] = self.construct_object(value_node, deep=deep)
        return mapping


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """A parsed config file: its data, where each key path sits, and any duplicate keys."""

    source: str
    data: object
    lines: dict[KeyPath, int] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()

    def line_of(self, path: KeyPath) -> int | None:
        """The line of `path`, or of its nearest ancestor that is in the file."""
        for end in range(len(path), 0, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None

    def problem(self, path: KeyPath, message: str) -> Problem:
        return Problem(format_path(path), self.line_of(path), message, self.source)


class YamlSyntaxError(Exception):
    """The text is not YAML (or not one document); carries the problem to show."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def read_yaml(text: str, source: str) -> YamlDocument:
    """Parse `text`; raises `YamlSyntaxError` when it is not a single YAML document."""
    loader = _ConfigLoader(text)
    try:
        root = loader.get_single_node()
        _check_alias_expansion(root, source)
        duplicates = list(_duplicate_keys(root, ()))
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        raise YamlSyntaxError(_syntax_problem(exc, source)) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(Problem("", None, f"invalid YAML: {exc}", source)) from None
    finally:
        loader.dispose()
    lines: dict[KeyPath, int] = {}
    if root is not None:
        _record_lines(root, (), lines, set())
    problems = tuple(
        Problem(
            format_path(path),
            line,
            f"duplicate key (first defined on line {first}); YAML would silently keep the last",
            source,
        )
        for path, line, first in duplicates
    )
    return YamlDocument(source=source, data=data, lines=lines, problems=problems)


def _check_alias_expansion(root: Node | None, source: str) -> None:
    """Refuse a document whose aliases expand past `MAX_ALIAS_EXPANSION` nodes, or refer to
    themselves, before anything walks the expanded tree."""
    if root is None:
        return
    sizes: dict[int, int] = {}
    distinct = 0
    # Iterative post-order walk over the node graph; each node's expanded size is computed once.
    stack: list[tuple[Node, bool]] = [(root, False)]
    on_path: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            size = 1 + sum(sizes[id(child)] for child in _children(node))
            sizes[key] = size
            distinct += 1
            if size - distinct > MAX_ALIAS_EXPANSION:
                break
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise YamlSyntaxError(
                Problem("", node.start_mark.line + 1, "a YAML alias refers to itself", source)
            )
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)
    expanded = max(sizes.values(), default=0)
    if expanded - distinct > MAX_ALIAS_EXPANSION:
        message = (
            f"YAML aliases expand to more than {MAX_ALIAS_EXPANSION} extra values (an alias "
            "bomb?); write the repeated parts out or share fewer, smaller anchors"
        )
        raise YamlSyntaxError(Problem("", None, message, source))


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def _syntax_problem(exc: yaml.MarkedYAMLError, source: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    what = exc.problem or exc.context or "not valid YAML"
    if exc.context and exc.problem:
        what = f"{exc.problem} ({exc.context})"
    if mark is None:
        return Problem("", None, f"invalid YAML: {what}", source)
    return Problem("", mark.line + 1, f"invalid YAML at column {mark.column + 1}: {what}", source)


def _duplicate_keys(node: Node | None, path: KeyPath) -> Iterator[tuple[KeyPath, int, int]]:
    """(path, line, first line) of each key repeated in a mapping; `<<` merges are not repeats."""
    seen_nodes: set[int] = set()
    stack: list[tuple[Node, KeyPath]] = [(node, path)] if node is not None else []
    while stack:
        current, where = stack.pop()
        if id(current) in seen_nodes:
            continue
        seen_nodes.add(id(current))
        if isinstance(current, MappingNode):
            first_line: dict[str, int] = {}
            for key_node, value_node in current.value:
                if key_node.tag == _MERGE_KEY or not isinstance(key_node, ScalarNode):
                    continue
                key = key_node.value
                line = key_node.start_mark.line + 1
                if key in first_line:
                    yield (*where, key), line, first_line[key]
                else:
                    first_line[key] = line
                stack.append((value_node, (*where, key)))
        elif isinstance(current, SequenceNode):
            for index, item in enumerate(current.value):
                stack.append((item, (*where, index)))


def _record_lines(node: Node, path: KeyPath, lines: dict[KeyPath, int], active: set[int]) -> None:
    # `active` guards against recursive aliases (`&a [*a]`), which would never end.
    if id(node) in active:
        return
    active.add(id(node))
    if isinstance(node, MappingNode):
        # After construction merge keys are flattened in front; a later (own) key wins, as in data.
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                continue
            child = (*path, key_node.value)
            lines[child] = key_node.start_mark.line + 1
            _record_lines(value_node, child, lines, active)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            lines[child] = item.start_mark.line + 1
            _record_lines(item, child, lines, active)
    active.discard(id(node))
