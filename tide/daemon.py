"""The long-running service: the sync and status schedules, hot reload, clean shutdown.

apscheduler's AsyncIOScheduler fires the jobs; a lock keeps a sync and a status pass
from ever overlapping. On SIGTERM or Ctrl-C the scheduler pauses, the running sync
finishes the merge in flight (it takes no new action once stopping), history is
flushed, and the process exits 0; a second signal exits at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from tide.clock import Clock, RealClock
from tide.config import Config, ConfigError
from tide.config.layout import ConfigFiles
from tide.github.client import GitHub
from tide.github.org_clients import Clients
from tide.history import History
from tide.instance import load_instance_id
from tide.judge import Judge
from tide.lease import KubernetesLease
from tide.pace import Pacer
from tide.report import SyncReport, merge_reports
from tide.status_pass import StatusPass, StatusUpdater
from tide.status_writer import StatusWriter
from tide.sync import Syncer

log = structlog.get_logger()

# Seconds a running sync may take to finish its merge on SIGTERM: below the 90 s that
# systemd (TimeoutStopSec) and Kubernetes (terminationGracePeriodSeconds) give us in deploy/.
SHUTDOWN_GRACE = 75.0
# Webhook-triggered syncs are at least this far apart, whatever `webhooks.debounce` says: a
# burst of deliveries costs one sync per gap, not one per delivery.
MIN_EVENT_SYNC_GAP = 1.0


class ConfigHolder:
    """The config in force, reloaded when one of its files changes; a bad edit keeps the old."""

    def __init__(self, config: Config, path: Path | ConfigFiles | None = None) -> None:
        self.config = config
        self.files: ConfigFiles | None = None
        if isinstance(path, ConfigFiles):
            self.files = path
        else:
            self.path = path
        self._digest = self._read_digest()
        self.last_error: list[str] = []

    @property
    def path(self) -> Path | None:
        """tide's own config file (one of the files read)."""
        return None if self.files is None else self.files.config

    @path.setter
    def path(self, value: Path | None) -> None:
        self.files = None if value is None else ConfigFiles(config=value)

    def _read_digest(self) -> str:
        return "" if self.files is None else self.files.digest()

    def refresh(self) -> bool:
        """Reload if a file changed; True when a new config took effect."""
        if self.files is None:
            return False
        digest = self._read_digest()
        if not digest or digest == self._digest:
            return False
        self._digest = digest
        try:
            config = self.files.load()
        except ConfigError as exc:
            self.last_error = [str(p) for p in exc.problems]
            for problem in self.last_error:
                log.error("config_invalid", problem=problem, keeping="the last good config")
            return False
        self.config = config
        self.last_error = []
        log.info("config_reloaded", path=self.files.describe())
        return True


@dataclass
class Schedule:
    sync_period: float
    status_period: float


class Daemon:
    """One tide instance: owns the sync, the status updater and the schedule."""

    def __init__(
        self,
        holder: ConfigHolder,
        gh: GitHub | Clients,
        *,
        clock: Clock | None = None,
        dry_run: bool = False,
        history: History | None = None,
        instance: str | None = None,
        lease: KubernetesLease | None = None,
    ) -> None:
        self.holder = holder
        self.clients = gh if isinstance(gh, Clients) else Clients.of(gh)
        self.clock = clock or RealClock()
        self.history = history or History()
        self.dry_run = dry_run
        self.instance = instance or load_instance_id(holder.config.instance.id, self.history.path)
        # On Kubernetes the Lease alone decides; elsewhere each repository's staging commits.
        self.lease = lease
        # One writer of the `tide` status, for the queue's writes and the status pass's;
        # one judge of a PR, reading its facts for the sync, the status pass and the API.
        self.status_writer = StatusWriter(self.clock, dry_run=dry_run, pace=self.clients.writes)
        self.judge = Judge(self.clients)
        self.syncer = Syncer(
            self.clients,
            self.clock,
            self.history,
            dry_run=dry_run,
            instance=self.instance,
            statuses=self.status_writer,
            judge=self.judge,
        )
        self.syncer.watch.enabled = lease is None
        self.statuses = StatusUpdater(
            self.clients, self.clock, dry_run=dry_run, judge=self.judge, writer=self.status_writer
        )
        self.lock = asyncio.Lock()
        self.last_report: SyncReport | None = None
        self.last_status: StatusPass | None = None
        self.pacer = Pacer()
        self.started_at = self.clock.now()
        # When the last sync ended, well or not: liveness fails when this stops moving.
        self.last_sync_end: datetime | None = None
        self._standing_by = False
        # Called with every finished sync report (metrics, the status API, the dashboard).
        self.listeners: list[Callable[[SyncReport], None]] = []
        # Called with every finished status pass and how long it took, in seconds.
        self.status_listeners: list[Callable[[StatusPass, float], None]] = []
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._pending_repos: set[str] = set()
        self._next_event_sync: datetime | None = None
        self._scheduler: AsyncIOScheduler | None = None
        self._signals = 0

    @property
    def gh(self) -> GitHub:
        """The client whose requests and budget the metrics show (with a GitHub App spread
        over several orgs: the first installation's)."""
        gh = self.clients.default
        if gh is None:
            raise RuntimeError("no GitHub client is open yet")
        return gh

    @property
    def config(self) -> Config:
        return self.holder.config

    # -- one pass of each job ----------------------------------------------------------------

    async def sync_once(self, repos: frozenset[str] | None = None) -> SyncReport:
        """A full sync, or one limited to `repos` (what a webhook delivery asks for)."""
        if self.lease is not None and not await self.lease.hold():
            # Another replica holds the Lease: touch nothing on GitHub, say why.
            self._standing_by = True
            now = self.clock.now()
            report = SyncReport(started_at=now, finished_at=now, standby={"*": self.lease.reason})
            self.last_report = report
            for listener in self.listeners:
                try:
                    listener(report)
                except Exception:
                    log.exception("listener_failed")
            return report
        if self._standing_by:
            # Taking over: the other replica's records are newer than what we loaded.
            self._standing_by = False
            self.history.reload()
            self.syncer.searched.force_sweep()  # list every match again, not only the updated
        async with self.lock:
            if self.holder.refresh():
                self.statuses.force_full_pass()
                self.syncer.clear_halts()
                self._reschedule()
            report = await self.syncer.sync(self.config, repos)
            self.last_sync_end = self.clock.now()
            if repos is None:
                self.last_report = report
            else:
                self.last_report = merge_reports(self.last_report, report, repos)
        if repos is None:
            self._pace()
        for listener in self.listeners:
            try:
                listener(report)
            except Exception:  # an observer must never break the queue
                log.exception("listener_failed")
        return report

    async def statuses_once(self) -> StatusPass:
        if self.lease is not None and not await self.lease.hold():
            return StatusPass()
        async with self.lock:
            started = self.clock.now()
            self.clients.begin_status_pass()
            try:
                result = await self.statuses.update(self.config, self.last_report)
            finally:
                self.clients.end_status_pass()
            self.last_status = result
        self.pacer.after_status_pass(
            self.clients.budgets(),
            self.clock.now(),
            self.config.status_update_period,
            self.config.sync_period,
        )
        seconds = (self.clock.now() - started).total_seconds()
        for listener in self.status_listeners:
            try:
                listener(result, seconds)
            except Exception:
                log.exception("listener_failed")
        return result

    def standby(self) -> dict[str, str]:
        """Where this instance stands by and why: `*` for everything (another replica holds
        the Lease), or repository -> the other instance's staging activity."""
        report = self.last_report
        return dict(report.standby) if report is not None else {}

    def _pace(self) -> None:
        """Slow down before the GraphQL budget runs dry (the status pass slows first)."""
        self.pacer.after_sync(self.clients.budgets(), self.clock.now(), self.config.sync_period)

    @property
    def not_before(self) -> datetime | None:
        """No regular sync before this time (resting for the budget)."""
        return self.pacer.sync_not_before

    # -- the service -------------------------------------------------------------------------

    async def _sync_job(self) -> None:
        if self._stop.is_set():
            return
        if self.not_before is not None and self.clock.now() < self.not_before:
            return
        try:
            await self.sync_once()
        except Exception:  # one bad sync must not end the service
            log.exception("sync_crashed")
        finally:
            self.last_sync_end = self.clock.now()

    async def _status_job(self) -> None:
        if self._stop.is_set() or not self.pacer.status_due(self.clock.now()):
            return
        try:
            await self.statuses_once()
        except Exception:
            log.exception("status_pass_crashed")

    def _schedule(self) -> Schedule:
        return Schedule(self.config.sync_period, self.config.status_update_period)

    def _reschedule(self) -> None:
        if self._scheduler is None:
            return
        sched = self._schedule()
        self._scheduler.reschedule_job("sync", trigger=IntervalTrigger(seconds=sched.sync_period))
        self._scheduler.reschedule_job(
            "statuses", trigger=IntervalTrigger(seconds=sched.status_period)
        )

    def request_sync(self, repo: str) -> None:
        """Sync `repo` soon (webhooks): deliveries within the debounce window share one sync."""
        self._pending_repos.add(repo)
        self._wake.set()

    async def _event_loop(self) -> None:
        while not self._stop.is_set():
            await self._wake.wait()
            await self.clock.sleep(self.config.webhooks.debounce)
            await self._wait_for_event_budget()
            self._wake.clear()
            repos = frozenset(self._pending_repos)
            self._pending_repos.clear()
            if not repos or self._stop.is_set():
                continue
            log.info("event_sync", repos=sorted(repos))
            try:
                await self.sync_once(repos)
                if self.pacer.status_due(self.clock.now()):
                    await self.statuses_once()
            except Exception:
                log.exception("sync_crashed", trigger="webhook")
            self._next_event_sync = self.clock.now() + timedelta(seconds=self._event_gap())

    def _event_gap(self) -> float:
        """Seconds until the next webhook sync may start: the floor, or longer when the
        budget policy says the points left would not last until the reset at this pace."""
        floor = max(MIN_EVENT_SYNC_GAP, self.config.webhooks.debounce)
        now = self.clock.now()
        return max([floor] + [b.next_sync_delay(now, floor) for b in self.clients.budgets()])

    async def _wait_for_event_budget(self) -> None:
        """Hold a webhook sync back until the gap since the last one has passed and the
        regular syncs are not resting for the budget (`not_before`); deliveries meanwhile
        pile into the one pending sync."""
        while not self._stop.is_set():
            now = self.clock.now()
            until = max(
                (t for t in (self._next_event_sync, self.not_before) if t is not None),
                default=now,
            )
            wait = (until - now).total_seconds()
            if wait <= 0:
                return
            await self.clock.sleep(min(wait, 5.0))

    async def _renew_loop(self) -> None:
        """Keep the Lease between syncs (a sync period may be longer than the Lease)."""
        if self.lease is None:
            return
        while not self._stop.is_set():
            try:
                await self.lease.hold()
            except Exception:
                log.exception("lease_renewal_crashed")
            await self.clock.sleep(self.lease.renew_every)

    def request_stop(self) -> None:
        self._signals += 1
        if self._signals > 1:
            log.warning("second_signal", action="exiting at once")
            os._exit(130)
        log.info("stopping", action="finishing the merge in flight")
        self._stop.set()
        self.syncer.stopping.set()

    async def run(self, *, install_signals: bool = True) -> int:
        loop = asyncio.get_running_loop()
        if install_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self.request_stop)
        sched = self._schedule()
        scheduler = AsyncIOScheduler(event_loop=loop, timezone=UTC)
        now = datetime.now(UTC)
        scheduler.add_job(
            self._sync_job,
            IntervalTrigger(seconds=sched.sync_period),
            id="sync",
            max_instances=1,
            coalesce=True,
            next_run_time=now,
        )
        scheduler.add_job(
            self._status_job,
            IntervalTrigger(seconds=sched.status_period),
            id="statuses",
            max_instances=1,
            coalesce=True,
            next_run_time=now + timedelta(seconds=min(2.0, sched.status_period)),
        )
        self._scheduler = scheduler
        scheduler.start()
        events = asyncio.create_task(self._event_loop())
        renewals = asyncio.create_task(self._renew_loop())
        log.info(
            "started",
            sync_period=sched.sync_period,
            status_period=sched.status_period,
            instance=self.instance,
        )
        try:
            await self._stop.wait()
        finally:
            events.cancel()
            renewals.cancel()
            scheduler.pause()
            # apscheduler cannot wait for a running coroutine job: wait on our own lock.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.lock.acquire(), timeout=SHUTDOWN_GRACE)
            scheduler.shutdown(wait=False)
            self._scheduler = None
            self.history.flush()
            if self.lease is not None:
                await self.lease.release()
            if install_signals:
                for sig in (signal.SIGTERM, signal.SIGINT):
                    loop.remove_signal_handler(sig)
            log.info("stopped")
        return 0

    def stop(self) -> None:
        """Ask a running `run()` to finish (tests, the demo)."""
        self._stop.set()
        self.syncer.stopping.set()
