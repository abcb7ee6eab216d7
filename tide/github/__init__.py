"""The only code in tide that speaks HTTP to GitHub; re-exports its public names."""

from tide.github.auth import StaticToken, TokenSource, static_token
from tide.github.budget import RateBudget
from tide.github.client import GitHub, GitHubEndpoint
from tide.github.errors import (
    AuthError,
    BaseModified,
    GitHubError,
    HeadModified,
    InvalidRequest,
    MergeCommitsForbidden,
    MergeConflict,
    MergeRejected,
    NotFastForward,
    NotFound,
    RateLimited,
    RefExists,
    Unauthorized,
    Unavailable,
    Unmergeable,
    WriteUncertain,
)
from tide.github.records import (
    PullState,
    RepositoryState,
    RepositoryUnreadable,
    SearchResult,
    StagingRef,
)
from tide.github.retry import RetryPolicy

__all__ = [
    "AuthError",
    "BaseModified",
    "GitHub",
    "GitHubEndpoint",
    "GitHubError",
    "HeadModified",
    "InvalidRequest",
    "MergeCommitsForbidden",
    "MergeConflict",
    "MergeRejected",
    "NotFastForward",
    "NotFound",
    "PullState",
    "RateBudget",
    "RateLimited",
    "RefExists",
    "RepositoryState",
    "RepositoryUnreadable",
    "RetryPolicy",
    "SearchResult",
    "StagingRef",
    "StaticToken",
    "TokenSource",
    "Unauthorized",
    "Unavailable",
    "Unmergeable",
    "WriteUncertain",
    "static_token",
]
