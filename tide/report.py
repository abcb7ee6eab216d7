"""What a sync saw, decided and did: one `PoolReport` per pool inside a `SyncReport`.

The status updater, the server, the dashboard and the demo read these; nothing in them
is computed again elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from tide.criteria import Verdict
from tide.execution import Execution
from tide.github.records import RepositoryState
from tide.model import Blocker, PullRequest
from tide.pool import Decision, PoolState


@dataclass(frozen=True, slots=True)
class PoolReport:
    """One pool after a sync: what was seen, decided and done."""

    state: PoolState
    decision: Decision
    verdicts: tuple[Verdict, ...]
    execution: Execution | None = None
    error: str = ""

    @property
    def key(self) -> str:
        return self.state.key


@dataclass(frozen=True, slots=True)
class SyncReport:
    started_at: datetime
    finished_at: datetime
    pools: tuple[PoolReport, ...] = ()
    prs: tuple[PullRequest, ...] = ()
    blockers: tuple[Blocker, ...] = ()
    repos: dict[str, RepositoryState] = field(default_factory=dict)
    protection: dict[str, tuple[str, ...]] = field(default_factory=dict)
    errors: tuple[str, ...] = ()
    # Repository (or "*" for all) -> why this instance stands by and writes nothing there.
    standby: dict[str, str] = field(default_factory=dict)
    graphql_cost: int = 0
    rate_remaining: int | None = None
    set_aside: dict[str, str] = field(default_factory=dict)  # PR key -> GitHub's refusal
    # Repositories and orgs GitHub's search refuses (gone, or hidden from the token): other
    # searches leave them out, or GitHub would refuse those whole too.
    unsearchable: frozenset[str] = frozenset()

    @property
    def duration(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()


def merge_reports(old: SyncReport | None, new: SyncReport, repos: frozenset[str]) -> SyncReport:
    """A full picture after a sync limited to `repos`: their pools and PRs from `new`, every
    other repository's as the last full sync saw them."""
    if old is None:
        return new

    def outside(org: str, repo: str) -> bool:
        return f"{org}/{repo}" not in repos

    return replace(
        new,
        started_at=old.started_at,
        pools=tuple(
            sorted(
                [p for p in old.pools if outside(p.state.org, p.state.repo)] + list(new.pools),
                key=lambda p: p.key,
            )
        ),
        prs=tuple(p for p in old.prs if outside(p.org, p.repo)) + new.prs,
        blockers=tuple(b for b in old.blockers if outside(b.org, b.repo)) + new.blockers,
        repos={**old.repos, **new.repos},
        protection={**old.protection, **new.protection},
        set_aside={
            **{k: v for k, v in old.set_aside.items() if outside(*repo_of(k))},
            **new.set_aside,
        },
        standby={
            **{k: v for k, v in old.standby.items() if k != "*" and k not in repos},
            **new.standby,
        },
    )


def repo_of(pr_key: str) -> tuple[str, str]:
    """`(org, repo)` of an `org/repo#n` key."""
    org, _, rest = pr_key.partition("/")
    return org, rest.partition("#")[0]
