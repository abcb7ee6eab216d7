"""The errors the GitHub client raises: one type per outcome a caller acts on differently.

Every message is one line naming the endpoint; no token, and no raw aiohttp or gql exception.
"""

from __future__ import annotations

from datetime import datetime


class GitHubError(Exception):
    """GitHub refused or failed a request; `message` is GitHub's own text when it sent one."""

    def __init__(self, text: str, *, endpoint: str = "", status: int | None = None) -> None:
        super().__init__(f"{endpoint}: {text}" if endpoint else text)
        self.endpoint = endpoint
        self.status = status
        self.message = text


class AuthError(GitHubError):
    """No token, or GitHub rejected it: nothing will work until an operator fixes it."""


class RateLimited(GitHubError):
    """A rate limit whose wait exceeds what the client is allowed to sleep through."""

    def __init__(
        self, text: str, *, endpoint: str = "", wait: float, until: datetime | None = None
    ) -> None:
        super().__init__(text, endpoint=endpoint)
        self.wait = wait
        self.until = until


class Unavailable(GitHubError):
    """GitHub kept failing (5xx, timeouts, dropped connections) for every attempt allowed."""


class WriteUncertain(GitHubError):
    """A write got no clear answer and may have been applied: re-read state before retrying."""


class InvalidRequest(GitHubError):
    """Refused locally before sending, because GitHub would refuse it (422)."""


class Unsearchable(GitHubError):
    """GitHub refused a whole search: a `repo:`, `org:` or `user:` it names does not exist or
    the token cannot see it (GraphQL type INVALID; REST 422)."""


class NotFound(GitHubError):
    """404: the repository, ref or object does not exist (or the token cannot see it)."""


class MergeRejected(GitHubError):
    """`PUT /pulls/{n}/merge` refused the merge; the subclass says why, as Tide distinguishes."""


class HeadModified(MergeRejected):
    """409: the PR's head is no longer the SHA the merge was pinned to."""


class BaseModified(MergeRejected):
    """405 "Base branch was modified": transient, worth a retry after a pause."""


class Unauthorized(MergeRejected):
    """405: the token may not push to the base branch; merging anything else there is futile."""


class MergeCommitsForbidden(MergeRejected):
    """405: the repository does not allow merge commits; the merge method must change."""


class Unmergeable(MergeRejected):
    """Any other 405: GitHub's own merge requirements (checks, reviews, conflicts) are unmet."""


class NotFastForward(GitHubError):
    """422 on a ref update without force: the new commit does not contain the old one."""


class MergeConflict(GitHubError):
    """409 from `POST /merges`: the head does not merge cleanly into the base."""


class RefExists(GitHubError):
    """422 on ref creation: a ref of that name already exists."""
