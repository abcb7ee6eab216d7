"""One instance acts on Kubernetes: a `coordination.k8s.io/v1` Lease, held and renewed by
the acting instance through `kubernetes_asyncio`; every other replica stands by.

The Lease is taken only when it is free or its holder stopped renewing it for its whole
duration, and every write carries the resourceVersion read just before, so two replicas
racing for it cannot both win (the loser gets 409 and stands by). Any doubt (the API
unreachable, an answer we cannot read) means standing by once our own lease has run out.
A clean shutdown hands the Lease back, so the next replica acts at once.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from tide.clock import Clock

if TYPE_CHECKING:
    from kubernetes_asyncio.client import ApiClient, CoordinationV1Api

log = structlog.get_logger()

NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


class LeaseUnavailable(Exception):
    """The Kubernetes client is missing or cannot be configured; the message says what to do."""


def _micro_time(at: datetime) -> str:
    """Kubernetes' MicroTime: RFC 3339 with exactly six fraction digits, in UTC."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class LeaseState:
    held: bool
    holder: str  # who holds it ("" when nobody does or we could not read it)
    until: datetime | None  # when the holder's lease runs out, as last seen

    def reason(self, where: str) -> str:
        if self.held:
            return f"holding the Lease {where}"
        if not self.holder:
            return f"standing by: the Lease {where} could not be read or taken"
        until = f" until {self.until:%Y-%m-%d %H:%M:%S} UTC" if self.until else ""
        return (
            f"standing by: instance {self.holder} holds the Lease {where}{until}; "
            "acting when it is released or not renewed"
        )


class KubernetesLease:
    """Acquire, renew and release one Lease; `hold()` is cheap to call before every sync."""

    def __init__(
        self,
        api: CoordinationV1Api,
        *,
        namespace: str,
        name: str,
        identity: str,
        duration: float,
        clock: Clock,
    ) -> None:
        self.api = api
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.duration = duration
        self.clock = clock
        self.state = LeaseState(False, "", None)
        self._renewed: datetime | None = None  # our last successful write
        self._lock = asyncio.Lock()

    @property
    def where(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def reason(self) -> str:
        return self.state.reason(self.where)

    @property
    def renew_every(self) -> float:
        return self.duration / 3

    async def hold(self) -> bool:
        """True when this instance holds the Lease now (renewing it when a third of its
        duration has passed), False when another one does or it cannot be known."""
        async with self._lock:
            now = self.clock.now()
            fresh = timedelta(seconds=self.renew_every)
            if self.state.held and self._renewed is not None and now - self._renewed < fresh:
                return True
            before = self.state
            try:
                self.state = await self._acquire(now)
            except Exception as exc:  # the API's errors, timeouts, a body we cannot read
                self.state = self._on_error(now, exc)
            if self.state != before:
                self._log_change(before)
            return self.state.held

    async def release(self) -> None:
        """Hand the Lease back (shutdown), so the next instance need not wait it out."""
        from kubernetes_asyncio.client.exceptions import ApiException

        async with self._lock:
            if not self.state.held:
                return
            try:
                lease = await self.api.read_namespaced_lease(self.name, self.namespace)
                spec: Any = lease.spec  # times go back as MicroTime strings, not datetimes
                if spec is not None and spec.holder_identity == self.identity:
                    now = self.clock.now()
                    spec.holder_identity = None
                    spec.lease_duration_seconds = 1
                    spec.renew_time = spec.acquire_time = _micro_time(now)
                    await self.api.replace_namespaced_lease(self.name, self.namespace, lease)
                log.info("lease_released", lease=self.where, instance=self.identity)
            except (TimeoutError, ApiException, OSError) as exc:
                log.warning("lease_release_failed", lease=self.where, error=str(exc))
            self.state = LeaseState(False, "", None)
            self._renewed = None

    async def _acquire(self, now: datetime) -> LeaseState:
        from kubernetes_asyncio.client import V1Lease, V1LeaseSpec, V1ObjectMeta
        from kubernetes_asyncio.client.exceptions import ApiException

        try:
            lease = await self.api.read_namespaced_lease(self.name, self.namespace)
        except ApiException as exc:
            if exc.status != 404:
                raise
            body = V1Lease(
                metadata=V1ObjectMeta(name=self.name, namespace=self.namespace),
                spec=self._spec(V1LeaseSpec(lease_transitions=0), now, taking=True),
            )
            try:
                await self.api.create_namespaced_lease(self.namespace, body)
            except ApiException as lost:
                if lost.status == 409:  # another replica created it first
                    return LeaseState(False, "", None)
                raise
            return self._won(now)
        spec = lease.spec or V1LeaseSpec()
        holder = spec.holder_identity or ""
        seconds = spec.lease_duration_seconds or self.duration
        last = _aware(spec.renew_time) or _aware(spec.acquire_time)
        until = last + timedelta(seconds=seconds) if last is not None else None
        if holder and holder != self.identity and until is not None and now < until:
            return LeaseState(False, holder, until)
        lease.spec = self._spec(spec, now, taking=holder != self.identity)
        try:
            # metadata.resourceVersion is the one just read: a concurrent change gets 409.
            await self.api.replace_namespaced_lease(self.name, self.namespace, lease)
        except ApiException as lost:
            if lost.status == 409:
                return LeaseState(False, holder, until)
            raise
        if holder and holder != self.identity:
            log.warning("lease_taken_over", lease=self.where, previous=holder, expired=str(until))
        return self._won(now)

    def _spec(self, spec: Any, now: datetime, *, taking: bool) -> Any:
        spec.holder_identity = self.identity
        spec.lease_duration_seconds = max(1, round(self.duration))
        spec.renew_time = _micro_time(now)
        if taking:
            spec.acquire_time = _micro_time(now)
            spec.lease_transitions = (spec.lease_transitions or 0) + 1
        elif isinstance(spec.acquire_time, datetime):
            # Read back as a datetime, the client would write it without the six fraction
            # digits MicroTime needs, and the API server would refuse the whole write.
            spec.acquire_time = _micro_time(_aware(spec.acquire_time) or now)
        return spec

    def _won(self, now: datetime) -> LeaseState:
        self._renewed = now
        return LeaseState(True, self.identity, now + timedelta(seconds=self.duration))

    def _on_error(self, now: datetime, exc: Exception) -> LeaseState:
        log.warning("lease_check_failed", lease=self.where, error=str(exc) or type(exc).__name__)
        if self.state.held and self.state.until is not None and now < self.state.until:
            return self.state  # nobody else can have it before our own term runs out
        return LeaseState(False, "", None)

    def _log_change(self, before: LeaseState) -> None:
        if self.state.held:
            log.info("lease_acquired", lease=self.where, instance=self.identity)
            return
        log.warning(
            "standing_by",
            lease=self.where,
            instance=self.identity,
            holder=self.state.holder or "unknown",
            waiting_for="the Lease to be released or to expire",
            until=str(self.state.until) if self.state.until else "unknown",
            was_holding=before.held,
        )


def _aware(value: object) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def lease_identity(instance: str, host: str | None = None) -> str:
    """Who holds the Lease: unique among live replicas. Their instance id alone is not, when
    the history (and the `instance-id` file beside it) sits on a volume they share; the pod
    name (the host name) is. A container restarted in the same pod is the same holder."""
    host = host or socket.gethostname()
    return instance if instance.startswith(host) else f"{host}/{instance}"


def pod_namespace(path: Path = NAMESPACE_FILE) -> str:
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise LeaseUnavailable(
            f"instance.lease.namespace is not set and {path} cannot be read ({exc}); "
            "set the namespace, or run tide in a pod with a service account"
        ) from exc


async def incluster_api(namespace: str | None) -> tuple[ApiClient, CoordinationV1Api, str]:
    """The client for the pod's own service account (its token, CA and API address)."""
    try:
        from kubernetes_asyncio import client, config
    except ImportError as exc:
        raise LeaseUnavailable(
            "instance.lease needs the Kubernetes client: pip install 'tide-merge-queue[kubernetes]'"
        ) from exc
    try:
        config.load_incluster_config()
    except config.ConfigException as exc:
        raise LeaseUnavailable(f"instance.lease: not inside a Kubernetes pod ({exc})") from exc
    api_client = client.ApiClient()
    return api_client, client.CoordinationV1Api(api_client), namespace or pod_namespace()
