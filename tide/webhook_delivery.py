"""GitHub webhook deliveries: signature check and which repository an event concerns (pure).

Only the repository matters: a delivery wakes a sync of that repository's pools, and
the sync re-reads everything from GitHub, so a forged or lost payload can at most cost a
sync, never cause a merge. Unsigned or mis-signed deliveries are refused all the same.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path

SIGNATURE_HEADER = "X-Hub-Signature-256"
EVENT_HEADER = "X-GitHub-Event"
DELIVERY_HEADER = "X-GitHub-Delivery"

# The events that can change whether, or what, a pool should merge.
SYNC_EVENTS = frozenset(
    {"pull_request", "status", "check_run", "check_suite", "issues", "issue_comment", "push"}
)


class WebhookSecretError(Exception):
    pass


def secret_source(secret_env: str | None, secret_file: str | None) -> tuple[object, ...]:
    """What identifies the secret's current value without reading it: the env variable's
    name, or the file's identity and mtime (a rotated or rewritten file gives a new one)."""
    if not secret_file:
        return ("env", secret_env)
    try:
        st = os.stat(secret_file)
    except OSError:
        return ("file", secret_file, None)
    return ("file", secret_file, st.st_ino, st.st_dev, st.st_mtime_ns, st.st_size)


def load_secret(secret_env: str | None, secret_file: str | None) -> bytes:
    """The shared secret from a file (whitespace stripped) or an environment variable."""
    if secret_file:
        try:
            value = Path(secret_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise WebhookSecretError(
                f"cannot read webhooks.secret_file {secret_file}: {exc.strerror}"
            ) from None
        where = f"webhooks.secret_file {secret_file}"
    else:
        value = os.environ.get(secret_env or "", "").strip()
        where = f"${secret_env}"
    if not value:
        raise WebhookSecretError(f"the webhook secret is empty: set {where}")
    return value.encode()


def sign(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_signature(secret: bytes, body: bytes, header: str | None) -> bool:
    """GitHub's HMAC-SHA256 of the raw body, compared in constant time."""
    if not header or not header.isascii() or not header.startswith("sha256="):
        return False  # compare_digest raises on non-ASCII text: that is a bad signature too
    return hmac.compare_digest(sign(secret, body), header)


class Deliveries:
    """The most recent delivery ids seen, so a replayed delivery wakes nothing; bounded, so a
    flood of fresh ids costs a fixed amount of memory (the oldest are forgotten first)."""

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._seen: OrderedDict[str, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    def first_time(self, delivery: str) -> bool:
        """Record `delivery`; False when it was already recorded (a replay)."""
        if not delivery:
            return True  # nothing to recognise it by
        if delivery in self._seen:
            self._seen.move_to_end(delivery)
            return False
        self._seen[delivery] = None
        if len(self._seen) > self.capacity:
            self._seen.popitem(last=False)
        return True


def repository_of(event: str, payload: Mapping[str, object]) -> str | None:
    """`org/repo` for an event that can affect a pool; None for anything else."""
    if event not in SYNC_EVENTS:
        return None
    repo = payload.get("repository")
    if not isinstance(repo, Mapping):
        return None
    full = repo.get("full_name")
    return full if isinstance(full, str) and "/" in full else None
