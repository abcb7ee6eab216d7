"""One instance acts on Kubernetes: the Lease code path through `kubernetes_asyncio`, against
a loopback server that answers the Lease endpoints as the Kubernetes API does."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import aiohttp
import pytest
import structlog
from e2e import make_world, running_daemon
from kubernetes_asyncio import client
from lease_api import LeaseAPI, lease_api

from tide.clock import VirtualClock
from tide.lease import KubernetesLease
from tide.sim import SimServer

NS, NAME = "tide", "tide"
WRITES = ("POST /repos*", "PUT *", "PATCH *", "DELETE *")


@asynccontextmanager
async def coordination(api: LeaseAPI) -> AsyncIterator[client.CoordinationV1Api]:
    config = client.Configuration(host=api.url)
    async with client.ApiClient(configuration=config) as api_client:
        yield client.CoordinationV1Api(api_client)


def lease(api: client.CoordinationV1Api, who: str, clock: VirtualClock) -> KubernetesLease:
    return KubernetesLease(api, namespace=NS, name=NAME, identity=who, duration=30, clock=clock)


async def test_one_replica_holds_the_lease_the_other_stands_by_then_takes_over():
    clock = VirtualClock()
    async with lease_api() as fake, coordination(fake) as api:
        a, b = lease(api, "tide-a", clock), lease(api, "tide-b", clock)

        assert await a.hold() is True
        assert fake.leases[(NS, NAME)]["spec"]["holderIdentity"] == "tide-a"
        with structlog.testing.capture_logs() as logs:
            assert await b.hold() is False
        assert b.reason.startswith("standing by: instance tide-a holds the Lease tide/tide until")
        [line] = [e for e in logs if e["event"] == "standing_by"]
        assert line["holder"] == "tide-a" and "released or to expire" in line["waiting_for"]

        clock.advance(11)
        assert await a.hold() is True  # renewed: a PUT with a new renewTime
        renewed = fake.leases[(NS, NAME)]["spec"]["renewTime"]
        assert renewed.endswith("09:00:11.000000Z")
        clock.advance(25)
        assert await b.hold() is False  # 25 s after the renewal: still a's

        clock.advance(10)  # a has not renewed for 35 s > 30 s: it is gone
        assert await b.hold() is True
        spec = fake.leases[(NS, NAME)]["spec"]
        assert spec["holderIdentity"] == "tide-b"
        assert spec["leaseTransitions"] == 2
        assert await a.hold() is False


async def test_release_hands_the_lease_over_at_once():
    clock = VirtualClock()
    async with lease_api() as fake, coordination(fake) as api:
        a, b = lease(api, "tide-a", clock), lease(api, "tide-b", clock)
        assert await a.hold()
        assert not await b.hold()

        await a.release()

        assert "holderIdentity" not in fake.leases[(NS, NAME)]["spec"]
        assert await b.hold()


async def test_a_write_that_lost_the_race_stands_by():
    clock = VirtualClock()
    async with lease_api() as fake, coordination(fake) as api:
        fake.set_holder(NS, NAME, "old-pod", "2026-01-05T08:00:00.000000Z", 30)  # long expired
        b = lease(api, "tide-b", clock)
        # Between our read and our write another replica takes it: our write must fail.
        fake.before_write = lambda: fake.set_holder(
            NS, NAME, "tide-c", "2026-01-05T09:00:00.000000Z", 30
        )

        assert await b.hold() is False
        assert fake.leases[(NS, NAME)]["spec"]["holderIdentity"] == "tide-c"
        fake.before_write = None
        assert await b.hold() is False
        assert b.state.holder == "tide-c"


async def test_an_unreachable_api_keeps_our_term_then_stands_by():
    clock = VirtualClock()
    async with lease_api() as fake, coordination(fake) as api:
        a = lease(api, "tide-a", clock)
        assert await a.hold()
        fake.down = True
        clock.advance(15)
        assert await a.hold() is True  # nobody else can have taken it yet
        clock.advance(20)
        assert await a.hold() is False  # our term ran out: never act on doubt
        assert a.reason.startswith("standing by: the Lease tide/tide could not be read")


async def test_daemon_without_the_lease_writes_nothing_and_says_why(schema):
    from tide.server.app import StatusServer

    clock = VirtualClock()
    world = make_world(clock)
    pr = world.open_pr("org/repo", files={"a.txt": "1\n"}, labels=["lgtm"])
    clock.advance(700)
    world.tick()
    async with (
        lease_api() as fake,
        coordination(fake) as api,
        SimServer(world) as sim,
        running_daemon(sim, clock, instance="tide-b") as b,
    ):
        fake.set_holder(NS, NAME, "tide-a", "2026-01-05T09:11:40.000000Z", 30)
        b.daemon.lease = lease(api, "tide-b", clock)
        b.daemon.syncer.watch.enabled = False
        before = sum(world.journal.count(p) for p in WRITES)
        requests = len(world.journal.requests)

        report = await b.sync()

        assert report.pools == ()
        assert report.standby["*"].startswith("standing by: instance tide-a holds the Lease")
        assert sum(world.journal.count(p) for p in WRITES) == before
        assert len(world.journal.requests) == requests  # not even a read of GitHub
        async with (
            StatusServer(b.daemon, port=0) as server,
            aiohttp.ClientSession() as session,
            session.get(f"{server.url}/readyz") as resp,
        ):
            body = json.loads(await resp.text())
        assert body["instance"] == "tide-b"
        assert "tide-a holds the Lease" in body["standby"]["*"]

        clock.advance(timedelta(seconds=31).total_seconds())
        await b.sync()  # tide-a stopped renewing: tide-b acts
        assert [m.number for m in world.journal.merges] == [pr.number]


async def test_outside_a_pod_the_lease_is_refused_with_a_clear_reason(monkeypatch, tmp_path):
    from tide.lease import LeaseUnavailable, incluster_api, pod_namespace

    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_PORT", raising=False)

    with pytest.raises(LeaseUnavailable, match=r"instance\.lease: not inside a Kubernetes pod"):
        await incluster_api("tide")
    with pytest.raises(LeaseUnavailable, match="set the namespace"):
        pod_namespace(tmp_path / "namespace")


async def test_replicas_sharing_an_identity_file_still_hold_the_lease_one_at_a_time():
    """The history volume (and the `instance-id` beside it) may be shared by two pods."""
    from tide.lease import lease_identity

    clock = VirtualClock()
    shared = "tide-5d8c9-x7k2p-3fa9c1"  # made by the first pod, read by the second
    first, second = (
        lease_identity(shared, "tide-5d8c9-x7k2p"),
        lease_identity(shared, "tide-5d8c9-q4m8z"),
    )
    assert first == shared and second != first
    async with lease_api() as fake, coordination(fake) as api:
        assert await lease(api, first, clock).hold()
        assert not await lease(api, second, clock).hold()
