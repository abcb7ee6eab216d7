"""The instance's write budget, within GitHub's secondary limits on content-creating requests.

GitHub documents secondary limits of about 80 content-creating requests a minute and 500 an
hour for one client, and refuses bursts beyond them. Every write tide sends (POST, PATCH,
PUT, DELETE through `tide.github.rest`) is counted in one `WritePace` per instance. The
queue plans its staging builds within the room left (`PoolState.write_room`; a merge of a
passed run is never held back); the status pass writes only while more than
`QUEUE_RESERVE` is left, so its thousands of cold-start writes never starve the queue, and
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


# GitHub's documented limits for content-creating requests; the part of them the status pass
# leaves to the queue (so the status pass gets at most the rest: 60 a minute, 400 an hour).
GITHUB_LIMITS = WriteLimits(per_minute=80, per_hour=500)
QUEUE_RESERVE = WriteLimits(per_minute=20, per_hour=100)
STATUS_SHARE = WriteLimits(
    per_minute=GITHUB_LIMITS.per_minute - QUEUE_RESERVE.per_minute,
    per_hour=GITHUB_LIMITS.per_hour - QUEUE_RESERVE.per_hour,
)


class WritePace:
    """A sliding-window budget of writes: `note(now)` counts one sent, `room(now)` says how
    many more fit, `take(now)` counts one only if it fits."""

    def __init__(self, limits: WriteLimits = GITHUB_LIMITS) -> None:
        self.limits = limits
        self._sent: deque[datetime] = deque()

    def _forget(self, now: datetime) -> None:
        while self._sent and now - self._sent[0] >= HOUR:
            self._sent.popleft()

    def room(self, now: datetime, keep: WriteLimits | None = None) -> int:
        """How many writes fit now in both the minute and the hour window, leaving `keep`
        of each window unused (the queue's reserve, when the status pass asks)."""
        self._forget(now)
        last_minute = sum(1 for t in self._sent if now - t < MINUTE)
        minute = self.limits.per_minute - (keep.per_minute if keep else 0)
        hour = self.limits.per_hour - (keep.per_hour if keep else 0)
        return max(0, min(minute - last_minute, hour - len(self._sent)))

    def note(self, now: datetime) -> None:
        """Count one write sent at `now`, whether or not it fitted (the queue's never wait)."""
        self._forget(now)
        self._sent.append(now)

    def reset(self) -> None:
        """Forget every write counted (a benchmark skipping ahead to fresh hours)."""
        self._sent.clear()

    def sent(self) -> list[datetime]:
        """When the writes of the last hour went out, oldest first."""
        return list(self._sent)

    def take(self, now: datetime) -> bool:
        """Count one write at `now` if it fits; False (nothing counted) when it does not."""
        if self.room(now) <= 0:
            return False
        self._sent.append(now)
        return True

    def next_room_at(self, now: datetime, keep: WriteLimits | None = None) -> datetime:
        """When the next write will fit, leaving `keep` unused (now, if one fits already)."""
        if self.room(now, keep) > 0:
            return now
        minute = self.limits.per_minute - (keep.per_minute if keep else 0)
        hour = self.limits.per_hour - (keep.per_hour if keep else 0)
        candidates = []
        recent = [t for t in self._sent if now - t < MINUTE]
        if minute > 0 and len(recent) >= minute:
            candidates.append(recent[len(recent) - minute] + MINUTE)
        if hour > 0 and len(self._sent) >= hour:
            candidates.append(self._sent[len(self._sent) - hour] + HOUR)
        return max(candidates, default=now)
