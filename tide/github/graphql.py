"""GraphQL over the shared transport: gql validates each document from `queries/` against
GitHub's schema (the slice of it they use, `schema_slice`) once, before first sending it, and
every response's `rateLimit` feeds the budget.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from gql import Client, GraphQLRequest
from gql.client import AsyncClientSession
from gql.transport.async_transport import AsyncTransport
from gql.transport.exceptions import TransportQueryError
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    OperationType,
    parse,
    print_ast,
)
from graphql.language import OperationDefinitionNode

from tide.clock import Clock
from tide.github.budget import RateBudget
from tide.github.documents import document
from tide.github.errors import GitHubError, NotFound, RateLimited, Unsearchable
from tide.github.http import JSON, HttpTransport
from tide.github.retry import RESET_SLACK, SECONDARY_LIMIT_DEFAULT_WAIT, reset_time
from tide.github.schema_slice import client_schema

_PRINTED: dict[int, tuple[DocumentNode, str]] = {}


def _payload(request: GraphQLRequest) -> dict[str, Any]:
    """gql's `request.payload`, with each document printed once, not on every request (the
    documents are parsed once per process, so the printed text never changes)."""
    doc = request.document
    hit = _PRINTED.get(id(doc))
    if hit is None or hit[0] is not doc:
        hit = (doc, print_ast(doc))
        _PRINTED[id(doc)] = hit
    payload: dict[str, Any] = {"query": hit[1]}
    if request.operation_name:
        payload["operationName"] = request.operation_name
    if request.variable_values:
        payload["variables"] = request.variable_values
    if request.extensions:
        payload["extensions"] = request.extensions
    return payload


class GitHubGraphQLTransport(AsyncTransport):
    """gql's view of `HttpTransport`: one POST per execute, GitHub's RATE_LIMITED waited out."""

    def __init__(self, http: HttpTransport, url: str, budget: RateBudget, clock: Clock) -> None:
        self._http = http
        self._url = url
        self._budget = budget
        self._clock = clock

    async def connect(self) -> None:
        await self._http.open()

    async def close(self) -> None:
        """The shared HTTP session belongs to the facade, which closes it."""

    def subscribe(self, request: GraphQLRequest) -> Any:
        raise NotImplementedError("GitHub's GraphQL API has no subscriptions")

    async def execute(
        self, request: GraphQLRequest, *args: object, **kwargs: object
    ) -> ExecutionResult:
        operation = _operation(request.document)
        name = operation.name.value if operation.name else "anonymous"
        endpoint = f"POST /graphql {name}"
        read_only = operation.operation == OperationType.QUERY
        attempts = self._http.policy.attempts
        for attempt in range(1, attempts + 1):
            response = await self._http.request(
                "POST", self._url, endpoint=endpoint, body=_payload(request), idempotent=read_only
            )
            doc = response.json()
            if response.status != 200 or not isinstance(doc, dict):
                raise GitHubError(
                    f"HTTP {response.status}: {response.message or 'no GraphQL response'}",
                    endpoint=endpoint,
                    status=response.status,
                )
            data = doc.get("data")
            errors = doc.get("errors")
            if isinstance(data, dict):
                self._budget.observe(data.get("rateLimit"))
            if _rate_limited(errors):
                until = reset_time(response.headers) or self._budget.reset_at
                self._budget.exhausted(until)
                wait = SECONDARY_LIMIT_DEFAULT_WAIT
                if until is not None:
                    wait = max(0.0, (until - self._clock.now()).total_seconds() + RESET_SLACK)
                if attempt == attempts:
                    raise RateLimited(
                        "GraphQL points exhausted", endpoint=endpoint, wait=wait, until=until
                    )
                await self._http.wait_for_rate_limit(endpoint, wait, response.status)
                continue
            if not isinstance(data, dict) and not errors:
                raise GitHubError("response has neither data nor errors", endpoint=endpoint)
            return ExecutionResult(data=data, errors=errors, extensions=doc.get("extensions"))
        raise AssertionError("unreachable: the loop returns or raises")


class _ValidateOnceClient(Client):
    """gql validates on every execute; our documents are fixed, so once per document is enough."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._validated: set[int] = set()

    def validate(self, request: GraphQLRequest) -> None:
        key = id(request.document)
        if key not in self._validated:
            super().validate(request)
            self._validated.add(key)


class GraphQL:
    """Runs the documents of `queries/` by name and returns their `data`."""

    def __init__(self, http: HttpTransport, url: str, budget: RateBudget, clock: Clock) -> None:
        self.budget = budget
        self._client = _ValidateOnceClient(
            schema=client_schema(),
            transport=GitHubGraphQLTransport(http, url, budget, clock),
            # Rate-limit waits happen inside execute, on the injected clock; gql's wall-clock
            # timeout would cut them short. Each HTTP attempt has its own timeout instead.
            execute_timeout=None,
        )
        self._session: AsyncClientSession | None = None

    async def open(self) -> None:
        if self._session is None:
            session = await self._client.connect_async()
            assert isinstance(session, AsyncClientSession)
            self._session = session

    async def close(self) -> None:
        if self._session is not None:
            await self._client.close_async()
            self._session = None

    async def run(
        self, name: str, variables: Mapping[str, object] | None = None
    ) -> dict[str, JSON]:
        """`data` of `queries/<name>.graphql`; any GraphQL error raises a `GitHubError`."""
        if self._session is None:
            await self.open()
        assert self._session is not None
        endpoint = f"GraphQL {name}"
        request = GraphQLRequest(parsed_document(name), variable_values=dict(variables or {}))
        try:
            result = await self._session.execute(request, get_execution_result=True)
        except TransportQueryError as exc:
            errors = exc.errors or []
            kinds = {e.get("type") for e in errors if isinstance(e, dict)}
            error_type = NotFound if "NOT_FOUND" in kinds else GitHubError
            if "INVALID" in kinds and "cannot be searched" in _first_message(errors):
                error_type = Unsearchable
            raise error_type(_first_message(errors) or str(exc), endpoint=endpoint) from None
        except GraphQLError as exc:
            raise GitHubError(
                f"document does not validate against GitHub's schema: {exc.message}",
                endpoint=endpoint,
            ) from None
        data = result.data
        if not isinstance(data, dict):
            raise GitHubError("response has no data", endpoint=endpoint)
        return data


@cache
def parsed_document(name: str) -> DocumentNode:
    return parse(document(name))


def _operation(doc: DocumentNode) -> OperationDefinitionNode:
    for definition in doc.definitions:
        if isinstance(definition, OperationDefinitionNode):
            return definition
    raise GitHubError("GraphQL document has no operation")


def _rate_limited(errors: object) -> bool:
    return isinstance(errors, list) and any(
        isinstance(e, dict) and e.get("type") == "RATE_LIMITED" for e in errors
    )


def _first_message(errors: list[Any]) -> str:
    for error in errors:
        if isinstance(error, dict) and error.get("message"):
            kind = error.get("type")
            return f"{kind}: {error['message']}" if kind else str(error["message"])
    return ""
