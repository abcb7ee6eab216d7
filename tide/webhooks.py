"""GitHub webhook deliveries: signature check and which repository an event concerns (pure).

Only the repository matters: a delivery wakes a sync of that repository's pools, and
the sync re-reads everything from GitHub, so a forged or lost payload can at most cost a
sync, never cause a merge. Unsigned or mis-signed deliveries are refused all the same.
"""

from __future__ import annotations

import hashlib
import hmac
import os
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
    if not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(sign(secret, body), header)


def repository_of(event: str, payload: Mapping[str, object]) -> str | None:
    """`org/repo` for an event that can affect a pool; None for anything else."""
    if event not in SYNC_EVENTS:
        return None
    repo = payload.get("repository")
    if not isinstance(repo, Mapping):
        return None
    full = repo.get("full_name")
    return full if isinstance(full, str) and "/" in full else None
