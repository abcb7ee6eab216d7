"""The merge criteria of one org/repo/branch, resolved from config into plain data.

`tide.config` builds these; the decision modules read them and never see YAML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, TypeVar

from tide.model import MergeMethod
from tide.regex import Pattern, compile_regex

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Query:
    """One Tide query (Prow's `TideQuery`); a `labels` entry `a,b` means a or b."""

    orgs: tuple[str, ...] = ()
    repos: tuple[str, ...] = ()
    excluded_repos: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    missing_labels: tuple[str, ...] = ()
    author: str = ""
    excluded_branches: tuple[str, ...] = ()
    included_branches: tuple[str, ...] = ()
    milestone: str = ""
    review_approved_required: bool = False

    def for_repo(self, org: str, repo: str) -> bool:
        """Prow's `ForRepo`: the org is included and the repo not excluded, or listed."""
        full = f"{org}/{repo}"
        if org in self.orgs and full not in self.excluded_repos:
            return True
        return full in self.repos

    def for_branch(self, branch: str) -> bool:
        if branch in self.excluded_branches:
            return False
        return not self.included_branches or branch in self.included_branches


@dataclass(frozen=True, slots=True)
class ContextPolicy:
    """Prow's merged `context_options` for one branch."""

    required: tuple[str, ...] = ()
    required_if_present: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    optional_regex: tuple[str, ...] = ()
    skip_unknown: bool = False
    from_branch_protection: bool = False

    def is_optional(self, name: str) -> bool:
        """Prow's `IsOptional`, in Prow's order."""
        if name in self.optional:
            return True
        if any(_regex(p).search(name) for p in self.optional_regex):
            return True
        if name in self.required or name in self.required_if_present:
            return False
        return self.skip_unknown

    def missing_required(self, present: set[str] | frozenset[str]) -> tuple[str, ...]:
        return tuple(c for c in self.required if c not in present)

    def with_required(self, extra: tuple[str, ...]) -> ContextPolicy:
        """This policy with more required contexts (branch protection's, for instance)."""
        merged = tuple(sorted(set(self.required) | set(extra)))
        return ContextPolicy(
            required=merged,
            required_if_present=self.required_if_present,
            optional=self.optional,
            optional_regex=self.optional_regex,
            skip_unknown=self.skip_unknown,
            from_branch_protection=self.from_branch_protection,
        )


def _regex(pattern: str) -> Pattern:
    return compile_regex(pattern)


class BlocksPolicy(StrEnum):
    """How GitHub's `mergeStateStatus == BLOCKED` is treated (Prow's values)."""

    IGNORE = "ignore"
    PERMIT = "permit"
    BLOCK = "block"


class FailureStrategy(StrEnum):
    BISECT = "bisect"
    TIDE = "tide"
    LANES = "lanes"


@dataclass(frozen=True, slots=True)
class MergeLabels:
    squash: str = ""
    rebase: str = ""
    merge: str = ""


@dataclass(frozen=True, slots=True)
class CommitTemplate:
    """Go text/template sources for the merge commit title and body ("" = GitHub's default)."""

    title: str = ""
    body: str = ""
    scope: str = ""  # the merge_commit_template key it came from, for error messages


@dataclass(frozen=True, slots=True)
class OptionForm:
    """How `queue:` in config.yaml writes one option, where that is more than its type here.

    `QueueOptions` is the one declaration of the queue options: `tide.config` builds the
    section's fields and checks from it (and from these), so the core never sees YAML."""

    minimum: int | None = None  # the smallest value allowed
    duration: bool = False  # seconds here; a Go duration ("30m") in the file
    # Per repository: a map of "*", org or "org/repo" to a value ("map"), or that map or one
    # value for every repository ("value_or_map").
    per_repo: Literal["map", "value_or_map"] | None = None


FORM = "tide.form"  # the dataclass field metadata key holding an option's `OptionForm`


def option(
    default: T,
    *,
    minimum: int | None = None,
    duration: bool = False,
    per_repo: Literal["map", "value_or_map"] | None = None,
) -> T:
    """A `QueueOptions` field with its default and how config.yaml writes it."""
    form = OptionForm(minimum=minimum, duration=duration, per_repo=per_repo)
    return field(default=default, metadata={FORM: form})


@dataclass(frozen=True, slots=True)
class QueueOptions:
    """This project's extensions beyond Prow's Tide (the `queue:` section), declared once:
    adding a field here adds the config key (document it in the README's `queue` row)."""

    staging_prefix: str = "tide/"
    batch_failure_strategy: FailureStrategy = FailureStrategy.BISECT
    bisect_parallel: bool = False
    single_retries: int = option(1, minimum=0)
    batch_retries: int = option(0, minimum=0)
    flaky_contexts: tuple[str, ...] = ()
    flaky_retries: int = option(2, minimum=0)
    context_start_timeout: float = option(1800.0, duration=True)
    run_timeout: float = option(4 * 3600.0, duration=True)
    retest_label: str = "tide/retest"
    retest_comment: str = "/tide retest"
    # Whose retest comments count besides the PR's author: people with write access.
    retest_associations: tuple[str, ...] = ("OWNER", "MEMBER", "COLLABORATOR")
    fast_forward: bool = option(False, per_repo="map")
    # The repository really has no CI: a PR may merge with no context reported at all.
    # Off, silence is never success: at least one context must report and all must finish.
    no_ci: bool = option(False, per_repo="value_or_map")
    merge_pause: float = option(5.0, duration=True)
    # A PR GitHub refused to merge is retried after this.
    refused_backoff: float = option(3600.0, duration=True)
    # `lanes` only: CI capacity, and when to screen new PRs before stacking them.
    max_concurrent_runs: int = option(24, minimum=1)
    landing_interval: float = option(15 * 60.0, duration=True)
    screen_window: float = option(3 * 3600.0, duration=True)
    screen_failures_per_hour: float = option(2.0, minimum=0)
    screen_batch: int = option(2, minimum=1)
    screen_interval: float = option(4 * 60.0, duration=True)
    # With a culprit recent or a failure unresolved, screen once this many eligible PRs wait
    # unproven: a stack that deep has too much to lose to each bad PR; 0: never on depth.
    screen_backlog: int = option(16, minimum=0)
    # Hedges (stacking the PRs above a layer still running without it, while culprits are
    # recent) start only while fewer staging runs than this are in flight; 0: never.
    hedge_runs: int = option(24, minimum=0)


@dataclass(frozen=True, slots=True)
class BranchPolicy:
    """Everything the decisions need to know about one org/repo/branch."""

    org: str
    repo: str
    branch: str
    queries: tuple[Query, ...] = ()
    context_policy: ContextPolicy = field(default_factory=ContextPolicy)
    merge_method: MergeMethod = MergeMethod.MERGE
    merge_labels: MergeLabels = field(default_factory=MergeLabels)
    blocks_policy: BlocksPolicy = BlocksPolicy.PERMIT
    batch_size_limit: int = 0
    prioritize_existing_batches: bool = True
    priority: tuple[tuple[str, ...], ...] = ()
    # Contexts of the job config's presubmits that can run on this branch (Prow-controlled).
    presubmit_contexts: frozenset[str] = frozenset()
    display_all_queries: bool = False
    status_context: str = "tide"
    target_url: str = ""
    pr_status_base_url: str = ""
    commit_template: CommitTemplate | None = None
    queue: QueueOptions = field(default_factory=QueueOptions)

    @property
    def max_batch_size(self) -> int | None:
        """`batch_size_limit` read the one way every strategy uses it, as Prow does: the most
        PRs picked together into one new batch (or `lanes` layer); None when unlimited (0);
        any negative value turns batching off, so each run tests one PR."""
        if self.batch_size_limit < 0:
            return 1
        return self.batch_size_limit or None
