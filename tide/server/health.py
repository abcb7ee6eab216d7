"""`/readyz` and `/healthz`: can this instance serve, and is its sync loop alive?

Readiness means "can serve": the first sync has finished, so the dashboard, the API and
the webhook endpoint have something true to say. A rejected config edit does not make the
instance unready (it keeps running on the last good config; dropping it from the Service
would only hide the dashboard that says so): it is in the reason, the dashboard, `tide
status` and the `tide_config_valid` metric. Liveness fails when the sync loop is wedged:
no sync has finished (or crashed) for `LIVE_SYNC_PERIODS` periods, or `LIVE_FLOOR`, past
any pause the daemon took to spare the rate limit; a restart is then the cure.
"""

from __future__ import annotations

from datetime import timedelta

from tide.daemon import Daemon
from tide.report import SyncReport
from tide.views.queue import format_duration

LIVE_SYNC_PERIODS = 10
LIVE_FLOOR = timedelta(minutes=10)


def _config_note(daemon: Daemon) -> str:
    holder = getattr(daemon, "holder", None)
    problems = getattr(holder, "last_error", None) or []
    if not problems:
        return ""
    return "; the config file is invalid (running on the last good one): " + "; ".join(problems)


def readiness(daemon: Daemon) -> tuple[bool, str]:
    """(ready, why): ready once a sync has finished; config problems are only reported."""
    report: SyncReport | None = getattr(daemon, "last_report", None)
    note = _config_note(daemon)
    if report is None:
        return False, "no sync has finished yet" + note
    now = daemon.clock.now()
    age = format_duration((now - report.finished_at).total_seconds())
    return True, f"the last sync finished {age} ago" + note


def liveness(daemon: Daemon) -> tuple[bool, str]:
    """(alive, why): the sync loop finished a sync (or crashed out of one) recently enough."""
    now = daemon.clock.now()
    period = timedelta(seconds=daemon.config.sync_period)
    last = daemon.last_sync_end or daemon.started_at
    allowed = max(LIVE_SYNC_PERIODS * period, LIVE_FLOOR)
    deadline = last + allowed
    rest = daemon.not_before
    if rest is not None:
        deadline = max(deadline, rest + allowed)
    age = format_duration((now - last).total_seconds())
    if now > deadline:
        limit = format_duration(allowed.total_seconds())
        return False, f"the sync loop is stuck: no sync finished for {age} (more than {limit})"
    return True, f"the sync loop is alive: last sync ended {age} ago"
