"""The slice of GitHub's schema that the documents of `queries/` use, vendored beside the full
schema as `schema_slice.graphql`: the client validates every document against it at start-up.

GitHub's whole schema, built in graphql-core, keeps about 30 MB resident for the daemon's life
(a third of its memory at 5,000 PRs); the slice holds only the types the documents reach and,
of object and interface types, only the fields they select (arguments, enums and input types
whole), so a document valid against it is valid against the full schema, which the tests
check too (`tests/test_queries_validate.py`). After changing a document, regenerate it:

    python -m tide.github.schema_slice
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from functools import cache, partial
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLEnumValue,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    build_schema,
    get_named_type,
    is_specified_scalar_type,
    parse,
    print_schema,
    visit,
)

SLICE_PATH = Path(__file__).with_name("schema_slice.graphql")
HEADER = (
    "# The part of GitHub's GraphQL schema (schema.graphql, @octokit/graphql-schema, MIT, see\n"
    "# SCHEMA-LICENSE.md) that queries/ uses. Generated: python -m tide.github.schema_slice\n"
)


@cache
def client_schema() -> GraphQLSchema:
    """The vendored slice, built once per process (a few hundred kB, not 30 MB)."""
    return build_schema(SLICE_PATH.read_text(encoding="utf-8"))


def slice_sdl(schema: GraphQLSchema, documents: Iterable[DocumentNode]) -> str:
    """The SDL of the part of `schema` that `documents` use."""
    fields: dict[str, set[str]] = defaultdict(set)
    named: set[str] = set()
    for doc in documents:
        _collect(schema, doc, fields, named)
    return HEADER + print_schema(_Slicer(schema, fields, named).build()) + "\n"


def _collect(
    schema: GraphQLSchema, doc: DocumentNode, fields: dict[str, set[str]], named: set[str]
) -> None:
    info = TypeInfo(schema)

    class Collector(Visitor):
        def enter_field(self, *_: Any) -> None:
            parent, field = info.get_parent_type(), info.get_field_def()
            if parent is not None and field is not None and not _is_meta(info):
                fields[parent.name].add(_field_name(parent, field))

        def enter_inline_fragment(self, node: Any, *_: Any) -> None:
            if node.type_condition is not None:
                named.add(node.type_condition.name.value)

        def enter_fragment_definition(self, node: Any, *_: Any) -> None:
            named.add(node.type_condition.name.value)

        def enter_variable_definition(self, *_: Any) -> None:
            input_type = info.get_input_type()
            if input_type is not None:
                named.add(get_named_type(input_type).name)

    visit(doc, TypeInfoVisitor(info, Collector()))


def _is_meta(info: TypeInfo) -> bool:
    field = info.get_field_def()
    return any(field is meta for meta in _meta_fields())


@cache
def _meta_fields() -> tuple[GraphQLField, ...]:
    from graphql.type.introspection import (
        SchemaMetaFieldDef,
        TypeMetaFieldDef,
        TypeNameMetaFieldDef,
    )

    return (SchemaMetaFieldDef, TypeMetaFieldDef, TypeNameMetaFieldDef)


def _field_name(parent: GraphQLNamedType, field: GraphQLField) -> str:
    assert isinstance(parent, GraphQLObjectType | GraphQLInterfaceType)
    for name, candidate in parent.fields.items():
        if candidate is field:
            return name
    raise KeyError(f"{parent.name} has no such field")


class _Slicer:
    """Rebuilds the used types (nothing else) as new type objects, without descriptions."""

    def __init__(self, schema: GraphQLSchema, fields: dict[str, set[str]], named: set[str]) -> None:
        self._schema = schema
        self._fields = fields
        self._wanted = set(named) | set(fields)
        self._wanted |= self._reached()
        self._built: dict[str, GraphQLNamedType] = {}

    def _reached(self) -> set[str]:
        """Every type a used field returns or takes, and every input type those take."""
        found: set[str] = set()
        pending: list[str] = []
        for type_name, names in self._fields.items():
            parent = self._schema.type_map[type_name]
            assert isinstance(parent, GraphQLObjectType | GraphQLInterfaceType)
            for name in names:
                field = parent.fields[name]
                pending.append(get_named_type(field.type).name)
                pending += [get_named_type(a.type).name for a in field.args.values()]
        pending += list(self._wanted)
        while pending:
            name = pending.pop()
            if name in found:
                continue
            found.add(name)
            kind = self._schema.type_map[name]
            if isinstance(kind, GraphQLInputObjectType):
                pending += [get_named_type(f.type).name for f in kind.fields.values()]
        return found

    def build(self) -> GraphQLSchema:
        query = self._schema.query_type
        assert query is not None
        root = self._named(query.name)
        assert isinstance(root, GraphQLObjectType)
        types = [self._named(n) for n in sorted(self._wanted)]
        return GraphQLSchema(query=root, types=types)

    def _named(self, name: str) -> GraphQLNamedType:
        if name in self._built:
            return self._built[name]
        kind = self._schema.type_map[name]
        made: GraphQLNamedType
        if is_specified_scalar_type(kind):
            made = kind
        elif isinstance(kind, GraphQLScalarType):
            made = GraphQLScalarType(name)
        elif isinstance(kind, GraphQLEnumType):
            made = GraphQLEnumType(
                name, {v: GraphQLEnumValue(e.value) for v, e in kind.values.items()}
            )
        elif isinstance(kind, GraphQLInputObjectType):
            made = GraphQLInputObjectType(name, partial(self._input_fields, kind))
        elif isinstance(kind, GraphQLUnionType):
            made = GraphQLUnionType(name, partial(self._members, kind))
        elif isinstance(kind, GraphQLInterfaceType):
            made = GraphQLInterfaceType(
                name, partial(self._object_fields, kind), partial(self._interfaces, kind)
            )
        elif isinstance(kind, GraphQLObjectType):
            made = GraphQLObjectType(
                name, partial(self._object_fields, kind), partial(self._interfaces, kind)
            )
        else:
            raise TypeError(f"unexpected type {name}")
        self._built[name] = made
        return made

    def _type(self, kind: Any) -> Any:
        if isinstance(kind, GraphQLNonNull):
            return GraphQLNonNull(self._type(kind.of_type))
        if isinstance(kind, GraphQLList):
            return GraphQLList(self._type(kind.of_type))
        return self._named(kind.name)

    def _kept_interfaces(self, kind: GraphQLObjectType | GraphQLInterfaceType) -> list[Any]:
        return [i for i in kind.interfaces if i.name in self._wanted]

    def _interfaces(self, kind: GraphQLObjectType | GraphQLInterfaceType) -> list[Any]:
        return [self._named(i.name) for i in self._kept_interfaces(kind)]

    def _field_names(self, kind: GraphQLObjectType | GraphQLInterfaceType) -> set[str]:
        """The fields selected on the type, and those of every kept interface it implements."""
        names = set(self._fields.get(kind.name, ()))
        for interface in self._kept_interfaces(kind):
            names |= self._field_names(interface)
        if not names:  # selected for `__typename` alone: a type needs one field
            names = {sorted(kind.fields)[0]}
        return names

    def _object_fields(
        self, kind: GraphQLObjectType | GraphQLInterfaceType
    ) -> dict[str, GraphQLField]:
        return {
            name: GraphQLField(
                self._type(kind.fields[name].type),
                {
                    arg: GraphQLArgument(self._type(a.type), default_value=a.default_value)
                    for arg, a in kind.fields[name].args.items()
                },
            )
            for name in sorted(self._field_names(kind))
        }

    def _input_fields(self, kind: GraphQLInputObjectType) -> dict[str, GraphQLInputField]:
        return {
            name: GraphQLInputField(self._type(f.type), default_value=f.default_value)
            for name, f in kind.fields.items()
        }

    def _members(self, kind: GraphQLUnionType) -> list[Any]:
        return [self._named(t.name) for t in kind.types if t.name in self._wanted]


def main() -> int:
    from tide.github.documents import document, document_names
    from tide.github.schema import github_schema

    docs = [parse(document(name)) for name in document_names()]
    SLICE_PATH.write_text(slice_sdl(github_schema(), docs), encoding="utf-8")
    print(f"wrote {SLICE_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
