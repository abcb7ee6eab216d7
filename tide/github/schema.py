"""GitHub's published GraphQL schema, vendored, loaded once per process.

`schema.graphql` comes from the npm package `@octokit/graphql-schema` 15.26.1 (MIT, see
SCHEMA-LICENSE.md). It defines one field twice and breaks two deprecation rules that
graphql-core 3.3 enforces, so it is built with `assume_valid_sdl` and its validation
errors are cleared; that is the schema GitHub itself serves.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from graphql import GraphQLSchema, build_schema

SCHEMA_PATH = Path(__file__).with_name("schema.graphql")


@cache
def github_schema() -> GraphQLSchema:
    schema = build_schema(SCHEMA_PATH.read_text(encoding="utf-8"), assume_valid_sdl=True)
    schema._validation_errors = []  # graphql-core 3.3 rejects GitHub's deprecated Node.id overrides
    return schema
