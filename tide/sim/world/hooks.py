"""Webhook deliveries from the simulated GitHub: what changed, signed as GitHub signs it.

The world queues a delivery for every registered hook when something a merge queue cares
about happens; `SimServer` posts them from a background task, so world code stays sync.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from tide.sim.world.entities import SimRepo
from tide.webhook_delivery import sign


@dataclass(frozen=True, slots=True)
class Hook:
    url: str
    secret: bytes
    events: frozenset[str] | None = None  # None: every event


@dataclass(frozen=True, slots=True)
class Delivery:
    url: str
    body: bytes
    headers: Mapping[str, str]


@dataclass
class Hooks:
    hooks: list[Hook] = field(default_factory=list)
    outbox: list[Delivery] = field(default_factory=list)
    delivered: list[tuple[Delivery, int | str]] = field(default_factory=list)
    on_emit: Callable[[], None] | None = None
    paused: bool = False  # a test can lose every delivery

    def add(self, url: str, secret: bytes, events: frozenset[str] | None = None) -> Hook:
        hook = Hook(url, secret, events)
        self.hooks.append(hook)
        return hook

    def emit(self, event: str, repo: SimRepo, payload: Mapping[str, object]) -> None:
        if not self.hooks or self.paused:
            return
        full = {
            **payload,
            "repository": {
                "id": repo.id,
                "name": repo.name,
                "full_name": repo.full_name,
                "owner": {"login": repo.owner},
            },
            "sender": {"login": "sim"},
        }
        body = json.dumps(full).encode()
        for hook in self.hooks:
            if hook.events is not None and event not in hook.events:
                continue
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "GitHub-Hookshot/sim",
                "X-GitHub-Event": event,
                "X-GitHub-Delivery": str(uuid.uuid4()),
                "X-Hub-Signature-256": sign(hook.secret, body),
            }
            self.outbox.append(Delivery(hook.url, body, headers))
        if self.on_emit is not None:
            self.on_emit()
