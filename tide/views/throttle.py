"""How often one client of the status server may make tide ask GitHub something: a token
bucket per client address, so an unauthenticated reader cannot spend the bot's quota."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from tide.bounded import Lru

CLIENTS = 1024  # addresses remembered; one forgotten starts again with a full bucket


class LookupThrottled(Exception):
    """This client asked GitHub too much lately; `retry_after` seconds until it may again."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"too many look-ups; try again in {retry_after:.0f}s")
        self.retry_after = retry_after


@dataclass
class ClientLimiter:
    """`burst` look-ups at once, then `per_minute` more each minute, per client."""

    burst: int = 10
    per_minute: float = 10.0
    _buckets: Lru[str, tuple[float, datetime]] = field(default_factory=lambda: Lru(CLIENTS))

    def take(self, client: str, now: datetime) -> None:
        """Spend one look-up for `client`, or raise `LookupThrottled`."""
        tokens, since = self._buckets.get(client) or (float(self.burst), now)
        refill = max(0.0, (now - since).total_seconds()) * self.per_minute / 60.0
        tokens = min(float(self.burst), tokens + refill)
        if tokens < 1.0:
            self._buckets[client] = (tokens, now)
            raise LookupThrottled((1.0 - tokens) * 60.0 / self.per_minute)
        self._buckets[client] = (tokens - 1.0, now)
