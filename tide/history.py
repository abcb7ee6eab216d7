"""What each pool did, when and why: Tide's history records, kept per pool and on disk.

Records keep Tide's JSON shape (`time`, `action`, `baseSHA`, `target`, `err`) so Prow's
Deck can read `/history`, plus `reason`, our one-line why. The file is rewritten after
each sync; a missing or corrupt file is reported and replaced, never fatal.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import structlog

from tide.model import PullRequest

log = structlog.get_logger()

DEFAULT_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Target:
    number: int
    author: str
    sha: str
    title: str
    head_ref: str = ""

    @classmethod
    def of(cls, pr: PullRequest) -> Target:
        return cls(pr.number, pr.author, pr.head_sha, pr.title, pr.head_ref)


@dataclass(frozen=True, slots=True)
class Record:
    time: datetime
    action: str
    base_sha: str = ""
    target: tuple[Target, ...] = ()
    err: str = ""
    reason: str = ""
    # Targets of a merge that did not land (their merge failed; `err` says why). Not in
    # Tide's JSON: read back, it is the targets `err` names as `#n: ...`.
    failed: tuple[int, ...] = ()

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "time": self.time.isoformat().replace("+00:00", "Z"),
            "action": self.action,
        }
        if self.base_sha:
            out["baseSHA"] = self.base_sha
        if self.target:
            out["target"] = [
                {
                    "number": t.number,
                    "author": t.author,
                    "sha": t.sha,
                    "title": t.title,
                    "head_ref": t.head_ref,
                }
                for t in sorted(self.target, key=lambda t: t.number)
            ]
        if self.err:
            out["err"] = self.err
        if self.reason:
            out["reason"] = self.reason
        return out

    @classmethod
    def from_json(cls, data: object) -> Record:
        if not isinstance(data, dict):
            raise ValueError("a record is not an object")
        targets = data.get("target") or []
        if not isinstance(targets, list) or not all(isinstance(t, dict) for t in targets):
            raise ValueError("target is not a list of objects")
        time = datetime.fromisoformat(str(data["time"]).replace("Z", "+00:00"))
        if time.tzinfo is None:
            raise ValueError("a record's time has no time zone")
        target = tuple(
            Target(
                int(t["number"]),
                str(t.get("author", "")),
                str(t.get("sha", "")),
                str(t.get("title", "")),
                str(t.get("head_ref", "")),
            )
            for t in targets
        )
        err = str(data.get("err", ""))
        return cls(
            time=time,
            action=str(data["action"]),
            base_sha=str(data.get("baseSHA", "")),
            target=target,
            err=err,
            reason=str(data.get("reason", "")),
            failed=tuple(t.number for t in target if f"#{t.number}:" in err),
        )


@dataclass
class History:
    """Per pool, the newest `limit` records; `path` (optional) is where they persist.

    `read_only` (a dry run) loads the file but never writes it: the live history must not
    show merges that never happened."""

    limit: int = DEFAULT_LIMIT
    path: Path | None = None
    read_only: bool = False
    _pools: dict[str, deque[Record]] = field(default_factory=dict)
    # Only an instance that recorded something writes the file: a replica standing by (or
    # an idle one) never overwrites what the acting one wrote to a shared volume.
    _dirty: bool = False

    def record(self, pool: str, record: Record) -> None:
        self._pools.setdefault(pool, deque(maxlen=self.limit)).append(record)
        self._dirty = True

    def reload(self) -> None:
        """Forget what is in memory and read the file again (taking over from another
        instance, whose records are newer than what this one loaded at start)."""
        self._pools.clear()
        self._dirty = False
        self.load(set_aside=False)

    def records(self, pool: str) -> list[Record]:
        """Newest first, as Tide serves them."""
        return list(reversed(self._pools.get(pool, ())))

    def pools(self) -> list[str]:
        return sorted(self._pools)

    def prune(self, keep: Callable[[str], bool]) -> list[str]:
        """Forget the pools `keep` refuses (repositories no longer configured), so the
        record does not grow with every repository tide ever managed; the pools dropped."""
        dropped = [pool for pool in self._pools if not keep(pool)]
        for pool in dropped:
            del self._pools[pool]
        self._dirty = self._dirty or bool(dropped)
        return dropped

    def to_json(self) -> dict[str, list[dict[str, object]]]:
        return {pool: [r.to_json() for r in self.records(pool)] for pool in self.pools()}

    def load(self, *, set_aside: bool = True) -> None:
        """Read the file if there is one; a corrupt file is reported and set aside (left
        in place with `set_aside=False`, for readers such as `tide explain --direct`)."""
        if self.path is None:
            return
        if not self.path.exists():
            log.info("history_missing", path=str(self.path), action="starting a new one")
            if set_aside:  # the daemon, not a reader such as `tide explain --direct`
                self._dirty = True
                self.flush()  # now, so a bad path shows at start-up
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("top level is not an object")
            if not all(isinstance(records, list) for records in data.values()):
                raise ValueError("a pool's records are not a list")
            loaded = {
                pool: [Record.from_json(r) for r in records] for pool, records in data.items()
            }
        except (OSError, ValueError, KeyError, TypeError) as exc:
            if not set_aside:
                log.error("history_corrupt", path=str(self.path), error=str(exc))
                return
            aside = self.path.with_suffix(self.path.suffix + ".corrupt")
            log.error("history_corrupt", path=str(self.path), error=str(exc), moved_to=str(aside))
            with contextlib.suppress(OSError):
                self.path.replace(aside)
            return
        for pool, records in loaded.items():
            # The file is newest first; keep the newest `limit`.
            self._pools[pool] = deque(reversed(records[: self.limit]), maxlen=self.limit)
        log.info("history_loaded", path=str(self.path), pools=len(loaded))

    def flush(self) -> None:
        """Write atomically (temp file + rename) so a crash never leaves half a file."""
        if self.path is None or self.read_only or not self._dirty:
            return
        self._dirty = False
        tmp: str | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".history-")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(self.to_json(), f)
                f.flush()
                # On disk before the rename, or a power cut can leave an empty file behind it.
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
            tmp = None
        except OSError as exc:
            self._dirty = True  # try again after the next sync
            log.error("history_write_failed", path=str(self.path), error=str(exc))
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)


def targets(prs: Iterable[PullRequest]) -> tuple[Target, ...]:
    return tuple(Target.of(pr) for pr in prs)
