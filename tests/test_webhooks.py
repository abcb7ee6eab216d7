"""Webhook deliveries: signatures, and which repository GitHub's own example events wake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tide.webhook_delivery import (
    Deliveries,
    WebhookSecretError,
    load_secret,
    repository_of,
    sign,
    verify_signature,
)

EXAMPLES = Path(__file__).parent / "fixtures" / "webhooks"
SECRET = b"It's a Secret to Everybody"


def test_a_correct_signature_is_accepted():
    body = b'{"zen": "Design for failure."}'
    assert verify_signature(SECRET, body, sign(SECRET, body))


@pytest.mark.parametrize(
    "header",
    [None, "", "sha1=abc", "sha256=", "sha256=" + "0" * 64],
    ids=["missing", "empty", "sha1", "truncated", "wrong"],
)
def test_unsigned_or_wrongly_signed_bodies_are_refused(header):
    assert not verify_signature(SECRET, b"{}", header)


def test_a_signature_for_another_body_is_refused():
    assert not verify_signature(SECRET, b'{"a": 2}', sign(SECRET, b'{"a": 1}'))


def test_githubs_documented_signature_example():
    # The example from GitHub's "Validating webhook deliveries" documentation.
    assert sign(SECRET, b"Hello, World!") == (
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    )


def _examples() -> list[tuple[str, dict]]:
    out = []
    for path in sorted(EXAMPLES.glob("*.json")):
        event = path.stem.split(".")[0]
        out.append((event, json.loads(path.read_text())))
    return out


@pytest.mark.parametrize(
    ("event", "payload"), _examples(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_example_event_names_its_repository(event, payload):
    assert repository_of(event, payload) == payload["repository"]["full_name"]


def test_events_that_cannot_affect_a_pool_wake_nothing():
    assert repository_of("star", {"repository": {"full_name": "o/r"}}) is None
    assert repository_of("ping", {"zen": "hi"}) is None
    assert repository_of("push", {}) is None


def test_secret_from_file_and_env(tmp_path, monkeypatch):
    path = tmp_path / "secret"
    path.write_text("s3cret\n")
    assert load_secret(None, str(path)) == b"s3cret"
    monkeypatch.setenv("HOOK_SECRET", "from-env")
    assert load_secret("HOOK_SECRET", None) == b"from-env"
    monkeypatch.setenv("HOOK_SECRET", " ")
    with pytest.raises(WebhookSecretError, match=r"the webhook secret is empty: set \$HOOK_SECRET"):
        load_secret("HOOK_SECRET", None)


def test_a_non_ascii_signature_is_refused_not_raised():
    assert not verify_signature(SECRET, b"{}", "sha256=\u00e9" + "0" * 63)


def test_delivery_ids_are_remembered_within_a_fixed_budget():
    seen = Deliveries(capacity=3)
    assert seen.first_time("a") and not seen.first_time("a")
    for name in "bcdef":
        assert seen.first_time(name)
    assert len(seen) == 3
    assert seen.first_time("a")  # long forgotten: memory stays bounded
    assert seen.first_time("")  # no id: nothing to recognise
