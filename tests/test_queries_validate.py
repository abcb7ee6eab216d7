"""Every GraphQL document the daemon sends is valid against GitHub's published schema."""

from __future__ import annotations

import pytest
from graphql import OperationDefinitionNode, OperationType, parse, validate

from tide.github.documents import document, document_names
from tide.github.schema import github_schema


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
