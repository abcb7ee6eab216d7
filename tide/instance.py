"""Which instance this is, and whether another instance is acting on a repository (pure,
except for reading and writing the identity file).

Every staging commit carries a `Tide-Instance:` trailer naming the instance that built
it. An instance that finds another identity's staging commit younger than the expiry on a
repository stands by for that repository: it reads, but writes nothing there. When both
acted recently (they started at the same moment), the smaller identity keeps acting, so
the two never both stand by. A dead instance's commits age out, and the survivor takes
over after at most `standby_expiry`.
"""

from __future__ import annotations

import re
import secrets
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import structlog

from tide.github.records import RepositoryState, StagingRef

log = structlog.get_logger()

_TRAILER = re.compile(r"^Tide-Instance:\s*([A-Za-z0-9._-]{1,63})\s*$", re.MULTILINE)
_VALID = re.compile(r"^[A-Za-z0-9._-]{1,63}$")
_SLUG = re.compile(r"[^A-Za-z0-9-]+")
ID_FILE = "instance-id"


def host_id() -> str:
    return _SLUG.sub("-", socket.gethostname()).strip("-")[:40] or "tide"


def new_instance_id() -> str:
    """The host name (for people reading logs) and a random tail (two on one host differ)."""
    return f"{host_id()}-{secrets.token_hex(3)}"


def id_file(history_path: Path) -> Path:
    return history_path.parent / ID_FILE


def load_instance_id(configured: str | None, history_path: Path | None) -> str:
    """The configured id; else the one kept beside the history file (made on first start),
    so that a restarted instance recognises its own staging commits. Without a history file
    (tests, the demo) the host name: a process restarted there is still the same instance."""
    if configured:
        return configured
    if history_path is None:
        return host_id()
    path = id_file(history_path)
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        text = ""
    except OSError as exc:
        log.warning("instance_id_unreadable", path=str(path), error=str(exc))
        text = ""
    if _VALID.match(text):
        return text
    made = new_instance_id()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(made + "\n")
    except OSError as exc:
        log.warning(
            "instance_id_not_saved",
            path=str(path),
            error=str(exc),
            effect="a restart gets a new identity and stands by for the old one's commits",
        )
    return made


def instance_of(message: str) -> str | None:
    """The identity in a staging commit's message, if any."""
    found = _TRAILER.findall(message)
    return found[-1] if found else None


@dataclass(frozen=True, slots=True)
class Standby:
    """Another instance acts on `repo`: what we saw, and when we act if it stays quiet."""

    repo: str
    holder: str
    ref: str
    seen_at: datetime
    until: datetime

    @property
    def reason(self) -> str:
        return (
            f"standing by: instance {self.holder} is acting on {self.repo} "
            f"(staging branch {self.ref} at {self.seen_at:%H:%M:%S} UTC); "
            f"acting after {self.until:%Y-%m-%d %H:%M:%S} UTC if it stays quiet"
        )


def standby_for(
    me: str, repo: str, refs: Iterable[StagingRef], now: datetime, expiry: float
) -> Standby | None:
    """Whether `me` must stand by on `repo`, given its staging branches' head commits.

    A commit dated in the future (anyone with push access can write any date) counts as
    made now, so a forged date cannot push the take-over further than one expiry away."""
    window = timedelta(seconds=expiry)
    recent: list[tuple[str, datetime, str]] = []
    for staging in refs:
        who = instance_of(staging.message)
        if who is None:
            continue
        at = min(staging.committed_at or now, now)
        if now - at < window:
            recent.append((who, at, staging.name))
    others = [r for r in recent if r[0] != me]
    if not others:
        return None
    if any(r[0] == me for r in recent) and me < min(r[0] for r in others):
        return None  # both acted at once: the smaller identity goes on, the other yields
    holder, at, ref = max(others, key=lambda r: (r[1], r[0]))
    return Standby(repo=repo, holder=holder, ref=ref, seen_at=at, until=at + window)


class StandbyWatch:
    """Checks every sync's repositories for another instance, and logs each change once."""

    def __init__(self, instance: str) -> None:
        self.instance = instance
        # With a Kubernetes Lease held, the Lease alone says who acts: no staging check.
        self.enabled = True
        self._last: dict[str, Standby] = {}

    def check(
        self, states: Iterable[RepositoryState], now: datetime, expiry: float
    ) -> dict[str, Standby]:
        found: dict[str, Standby] = {}
        read: set[str] = set()
        for state in states:
            full = f"{state.org}/{state.repo}"
            read.add(full)
            if not (self.enabled and self.instance):
                continue
            other = standby_for(self.instance, full, state.staging_refs, now, expiry)
            if other is not None:
                found[full] = other
        for full, other in found.items():
            before = self._last.get(full)
            if before is None or (before.holder, before.until) != (other.holder, other.until):
                log.warning(
                    "standing_by",
                    repo=full,
                    instance=self.instance,
                    other_instance=other.holder,
                    seen=other.ref,
                    seen_at=other.seen_at.isoformat(),
                    waiting_for=f"instance {other.holder} to stay quiet on {full}",
                    until=other.until.isoformat(),
                )
        for full in (self._last.keys() & read) - found.keys():
            log.info("acting", repo=full, instance=self.instance, after="standing by")
        # A repository not read this time (a webhook sync of another one) keeps its state.
        self._last = {**{k: v for k, v in self._last.items() if k not in read}, **found}
        return found
