"""Prow's GraphQL `PullRequest` record of a PR, with Go's field names (pure).

Tide's JSON (`tide.views.prow`) and merge commit templates (`.GitHub...`) both show it.
"""

from __future__ import annotations

from datetime import datetime

from tide.model import Context, PullRequest

JSON = dict[str, object]
GO_ZERO_TIME = "0001-01-01T00:00:00Z"


def go_time(at: datetime | None) -> str:
    return at.isoformat().replace("+00:00", "Z") if at is not None else GO_ZERO_TIME


def _status_context(ctx: Context) -> JSON:
    return {"Context": ctx.name, "Description": ctx.description, "State": ctx.state.value}


def _check_run(ctx: Context) -> JSON:
    conclusion = "" if ctx.state.value == "PENDING" else ctx.state.value
    status = "IN_PROGRESS" if ctx.state.value == "PENDING" else "COMPLETED"
    return {"CheckRun": {"Name": ctx.name, "Conclusion": conclusion, "Status": status}}


def github_pr(pr: PullRequest) -> JSON:
    """Tide's GraphQL `PullRequest` struct, with Go's field names."""
    contexts = pr.head_contexts or ()
    return {
        "Number": pr.number,
        "Author": {"Login": pr.author},
        "BaseRef": {"Name": pr.base_ref, "Prefix": pr.base_ref_prefix},
        "HeadRefName": pr.head_ref,
        "HeadRefOID": pr.head_sha,
        "Mergeable": pr.mergeable.value,
        "MergeStateStatus": pr.merge_state_status,
        "CanBeRebased": pr.can_be_rebased,
        "IsDraft": pr.is_draft,
        "Repository": {
            "Name": pr.repo,
            "NameWithOwner": pr.repo_key,
            "Owner": {"Login": pr.org},
        },
        "ReviewDecision": pr.review_decision or "",
        "Commits": {
            "Nodes": [
                {
                    "Commit": {
                        "OID": pr.head_sha,
                        "Status": {
                            "Contexts": [_status_context(c) for c in contexts if not c.is_check_run]
                        },
                        "StatusCheckRollup": {
                            "Contexts": {
                                "Nodes": [_check_run(c) for c in contexts if c.is_check_run]
                            }
                        },
                    }
                }
            ]
        },
        "Labels": {"Nodes": [{"Name": name} for name in sorted(pr.labels)]},
        "Milestone": {"Title": pr.milestone} if pr.milestone else None,
        "Body": pr.body,
        "Title": pr.title,
        "UpdatedAt": go_time(pr.updated_at),
    }
