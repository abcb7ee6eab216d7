"""GitHub's static analysis of a GraphQL query before it runs: pagination limits and cost
(requests to fill every connection at its page size, / 100, rounded, at least 1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
)
from graphql.execution.values import VariableValues, get_argument_values

MAX_PAGE = 100
MAX_NODES = 500_000


@dataclass
class Analysis:
    requests: int = 0
    nodes: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def cost(self) -> int:
        return max(1, int(self.requests / 100 + 0.5))


def analyse(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: VariableValues,
) -> Analysis:
    root = schema.mutation_type if operation.operation.value == "mutation" else schema.query_type
    walker = _Walker(schema, fragments, variables)
    if root is not None:
        name = operation.name.value if operation.name else ""
        label = f"{operation.operation.value} {name}".strip()
        walker.selections(root, operation.selection_set, 1, [label], frozenset())
    analysis = walker.analysis
    if analysis.nodes > MAX_NODES and not analysis.errors:
        analysis.errors.append(
            {
                "type": "MAX_NODE_LIMIT_EXCEEDED",
                "message": (
                    f"This query requests up to {analysis.nodes:,} possible nodes which exceeds "
                    f"the maximum limit of {MAX_NODES:,}."
                ),
            }
        )
    return analysis


class _Walker:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: VariableValues,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.analysis = Analysis()

    def selections(
        self,
        parent: GraphQLNamedType,
        selection_set: SelectionSetNode | None,
        multiplier: int,
        path: list[str],
        spread: frozenset[str],
    ) -> None:
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                self.field(parent, selection, multiplier, path, spread)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                self.selections(target or parent, selection.selection_set, multiplier, path, spread)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in spread:
                    continue
                target = self.schema.get_type(fragment.type_condition.name.value) or parent
                self.selections(target, fragment.selection_set, multiplier, path, spread | {name})

    def field(
        self,
        parent: GraphQLNamedType,
        node: FieldNode,
        multiplier: int,
        path: list[str],
        spread: frozenset[str],
    ) -> None:
        if not isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)):
            return  # unions only offer __typename
        definition = parent.fields.get(node.name.value)
        if definition is None:
            return
        here = [*path, (node.alias or node.name).value]
        result_type = get_named_type(definition.type)
        if result_type.name.endswith("Connection") and (
            "first" in definition.args or "last" in definition.args
        ):
            size = self.page_size(definition, node, here)
            if size is None:
                return
            self.analysis.requests += multiplier
            self.analysis.nodes += multiplier * size
            multiplier *= size
        self.selections(result_type, node.selection_set, multiplier, here, spread)

    def page_size(self, definition: GraphQLField, node: FieldNode, path: list[str]) -> int | None:
        """The connection's `first`/`last`, or None after recording GitHub's refusal."""
        try:
            args = get_argument_values(definition, node, self.variables)
        except GraphQLError:
            args = {}  # execution reports bad arguments in GraphQL's own words
        name = node.name.value
        where: dict[str, Any] = {"path": path}
        if node.loc is not None:
            at = node.loc.source.get_location(node.loc.start)
            where["locations"] = [{"line": at.line, "column": at.column}]
        first, last = args.get("first"), args.get("last")
        if first is None and last is None:
            message = (
                f"You must provide a `first` or `last` value to properly paginate the "
                f"`{name}` connection."
            )
            self.analysis.errors.append(
                {"type": "MISSING_PAGINATION_BOUNDARIES", **where, "message": message}
            )
            return None
        for arg, value in (("first", first), ("last", last)):
            if value is not None and value > MAX_PAGE:
                message = (
                    f"Requesting {value} records on the `{name}` connection exceeds the "
                    f"`{arg}` limit of {MAX_PAGE} records."
                )
                self.analysis.errors.append(
                    {"type": "EXCESSIVE_PAGINATION", **where, "message": message}
                )
                return None
        return max(first or 0, last or 0)
