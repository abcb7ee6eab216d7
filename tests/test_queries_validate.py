"""Every GraphQL document the daemon sends is valid against GitHub's published schema."""

from __future__ import annotations

import pytest
from graphql import OperationDefinitionNode, OperationType, parse, validate

from tide.github.documents import document, document_names
from tide.github.schema import github_schema
from tide.github.schema_slice import SLICE_PATH, client_schema, slice_sdl


def test_queries_folder_holds_the_documents_the_client_runs():
    assert {
        "branch_head",
        "repository_state",
        "search_issues",
        "search_pull_requests",
        "viewer",
    } <= set(document_names())


@pytest.mark.parametrize("name", document_names())
def test_document_validates_against_githubs_schema(name: str):
    errors = validate(github_schema(), parse(document(name)))

    assert [e.message for e in errors] == []


@pytest.mark.parametrize("name", document_names())
def test_document_is_one_named_query_that_reads_the_rate_limit(name: str):
    """The budget is kept from `rateLimit`, so every document must ask for it."""
    doc = parse(document(name))
    operations = [d for d in doc.definitions if isinstance(d, OperationDefinitionNode)]

    assert len(operations) == 1
    assert operations[0].operation == OperationType.QUERY
    assert operations[0].name is not None
    top_fields = {s.name.value for s in operations[0].selection_set.selections}
    assert "rateLimit" in top_fields


def test_the_vendored_schema_slice_is_what_the_documents_use_of_githubs_schema():
    """The client validates against the slice; a document changed without regenerating it
    (`python -m tide.github.schema_slice`) fails here, not at a user's start-up."""
    docs = [parse(document(name)) for name in document_names()]

    assert SLICE_PATH.read_text(encoding="utf-8") == slice_sdl(github_schema(), docs)


@pytest.mark.parametrize("name", document_names())
def test_document_validates_against_the_slice_the_client_keeps(name: str):
    errors = validate(client_schema(), parse(document(name)))

    assert [e.message for e in errors] == []


def test_the_slice_still_rejects_a_field_github_does_not_have():
    doc = parse("query Q { rateLimit { cost remaining resetAt } viewer { login nickname } }")

    messages = [e.message for e in validate(client_schema(), doc)]
    assert messages == ["Cannot query field 'nickname' on type 'User'."]
    assert validate(github_schema(), doc)
