"""Every `tide` status on a PR goes out here: the queue's own (in the pool, set aside, broke
the build) and the status pass's, by the same rules.

Tide writes only when the state or the description differ from what the PR shows as read;
a status that records a decision made after the read (a culprit, a refused merge) is written
whatever the read shows, since the queue may have written over it since. The status pass's
writes go out only while the instance's write budget has more left than the queue's reserve
(`tide.write_pace`); the queue's own writes are never held back here.
"""

from __future__ import annotations

from enum import Enum

import structlog

from tide.clock import Clock
from tide.criteria import status_context_of
from tide.github.client import GitHub
from tide.model import PullRequest
from tide.status_text import Status, needs_write, truncate_description
from tide.write_pace import QUEUE_RESERVE, WritePace

log = structlog.get_logger()


class Written(Enum):
    WRITTEN = "written"
    UNCHANGED = "unchanged"  # the PR shows it already
    HELD = "held"  # no room in the pace now: the caller tries again later
    DRY_RUN = "dry run"  # logged, not written


class StatusWriter:
    """One per daemon: the executors and the status pass share its rules and its pace."""

    def __init__(
        self, clock: Clock, *, dry_run: bool = False, pace: WritePace | None = None
    ) -> None:
        self.clock = clock
        self.dry_run = dry_run
        # The instance's write budget (the REST client counts every write in it).
        self.pace = pace or WritePace()

    def due(self, pr: PullRequest, context: str, want: Status) -> bool:
        """Whether `pr`, as read, shows another state or description than `want`."""
        shown = status_context_of(pr, context)
        if shown is None:
            return needs_write(None, None, want)
        return needs_write(shown.state.value, shown.description, want)

    async def write(
        self,
        gh: GitHub,
        pr: PullRequest,
        context: str,
        want: Status,
        *,
        paced: bool = False,
        decided: bool = False,
    ) -> Written:
        """`want` on `pr`'s head unless the PR shows it already (`decided`: write anyway);
        `paced` (the status pass) writes only while the budget has more than the queue's
        reserve left. GitHub's errors are the
        caller's to handle."""
        want = Status(want.state, truncate_description(want.description), want.target_url)
        if not decided and not self.due(pr, context, want):
            return Written.UNCHANGED
        if self.dry_run:
            log.info(
                "dry_run",
                would="set status",
                pr=pr.key,
                state=want.state,
                description=want.description,
            )
            return Written.DRY_RUN
        if paced and self.pace.room(self.clock.now(), keep=QUEUE_RESERVE) <= 0:
            return Written.HELD
        await gh.rest.create_status(
            pr.org,
            pr.repo,
            pr.head_sha,
            context=context,
            state=want.state,
            description=want.description,
            target_url=want.target_url,
        )
        log.info("status_set", pr=pr.key, state=want.state, description=want.description)
        return Written.WRITTEN
