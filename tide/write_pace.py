"""How many `tide` status writes may go out now, within GitHub's secondary limits.

GitHub documents secondary limits on content-creating requests of about 80 a minute and 500
an hour for one client, and refuses bursts beyond them. A cold start on a large org wants
thousands of status writes; sent at once, most would be refused, and the refusals would slow
the merges and staging writes that matter more. So the status pass takes only a share of
those limits (the rest stays free for the queue's own writes, which are never held back) and
leaves what does not fit for its next pass.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class WriteLimits:
    per_minute: int
    per_hour: int


# GitHub's documented limits for content-creating requests, and the status pass's share.
GITHUB_LIMITS = WriteLimits(per_minute=80, per_hour=500)
STATUS_SHARE = WriteLimits(per_minute=60, per_hour=400)


class WritePace:
    """A sliding-window budget of writes: `take(now)` says whether one more may go now."""

    def __init__(self, limits: WriteLimits = STATUS_SHARE) -> None:
        self.limits = limits
        self._sent: deque[datetime] = deque()

    def _forget(self, now: datetime) -> None:
        while self._sent and now - self._sent[0] >= HOUR:
            self._sent.popleft()

    def room(self, now: datetime) -> int:
        """How many writes fit now in both the minute and the hour window."""
        self._forget(now)
        last_minute = sum(1 for t in self._sent if now - t < MINUTE)
        return max(
            0, min(self.limits.per_minute - last_minute, self.limits.per_hour - len(self._sent))
        )

    def take(self, now: datetime) -> bool:
        """Count one write at `now` if it fits; False (nothing counted) when it does not."""
        if self.room(now) <= 0:
            return False
        self._sent.append(now)
        return True

    def next_room_at(self, now: datetime) -> datetime:
        """When the next write will fit (now, if one fits already)."""
        if self.room(now) > 0:
            return now
        candidates = []
        recent = [t for t in self._sent if now - t < MINUTE]
        if len(recent) >= self.limits.per_minute:
            candidates.append(recent[len(recent) - self.limits.per_minute] + MINUTE)
        if len(self._sent) >= self.limits.per_hour:
            candidates.append(self._sent[len(self._sent) - self.limits.per_hour] + HOUR)
        return max(candidates, default=now)
