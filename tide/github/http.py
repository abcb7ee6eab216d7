"""The one path every GitHub request takes: one aiohttp session, status and headers read per
response, bounded retries, rate-limit waits on the injected clock, per-endpoint counters.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp
import structlog
from yarl import URL

from tide.clock import Clock
from tide.github.auth import TokenSource
from tide.github.errors import AuthError, RateLimited, Unavailable, WriteUncertain
from tide.github.retry import (
    RetryPolicy,
    backoff_delay,
    is_rate_limited,
    rate_limit_wait,
    reset_time,
)
from tide.redaction import redact

log = structlog.get_logger()

# A decoded JSON document as GitHub sent it; decode.py turns it into typed values.
JSON = Any

USER_AGENT = "tide-merge-queue"
SAFE_METHODS = frozenset({"GET", "HEAD", "DELETE"})
MASKED_TOKENS = 8


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes = b""

    def json(self) -> JSON:
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def message(self) -> str:
        """GitHub's error text: `message` plus the first detail of `errors`, when present;
        anything shaped like a credential is redacted (the text ends up in logs and the API)."""
        doc = self.json()
        if not isinstance(doc, dict):
            return redact(self.body[:200].decode("utf-8", "replace").strip())
        text = str(doc.get("message") or "")
        errors = doc.get("errors")
        if isinstance(errors, list) and errors:
            first = errors[0]
            detail = first.get("message") if isinstance(first, dict) else str(first)
            if detail and detail not in text:
                text = f"{text}: {detail}" if text else str(detail)
        return redact(text)


@dataclass
class RequestCounters:
    """Requests per (endpoint template, outcome); outcome is the status code, `timeout` or
    `connection`. Read by the metrics exporter."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)

    def count(self, endpoint: str, outcome: str) -> None:
        self.counts[(endpoint, outcome)] += 1

    def snapshot(self) -> dict[tuple[str, str], int]:
        return dict(self.counts)

    def total(self, endpoint: str | None = None) -> int:
        return sum(n for (e, _), n in self.counts.items() if endpoint is None or e == endpoint)


class HttpTransport:
    """Owns the aiohttp session; `request` returns any answer a caller should interpret and
    raises only for what no caller can handle (auth, exhausted retries, long rate limits)."""

    def __init__(
        self,
        tokens: TokenSource,
        clock: Clock,
        *,
        policy: RetryPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._tokens = tokens
        self._clock = clock
        self.policy = policy or RetryPolicy()
        self._rng = rng or random.Random()
        self._session: aiohttp.ClientSession | None = None
        # Tokens sent so far, newest last, to mask in error text; rotation keeps few alive.
        self._secrets: dict[str, None] = {}
        self.counters = RequestCounters()

    async def open(self) -> None:
        if self._session is None:
            timeout = aiohttp.ClientTimeout(total=self.policy.request_timeout)
            self._session = aiohttp.ClientSession(timeout=timeout)
            # aiohttp silently re-sends PUT/DELETE/GET once when a kept-alive connection drops;
            # a merge PUT must never be re-sent blindly, and every retry should be counted and
            # logged here, so switch that off (no public knob as of aiohttp 3.14; the test
            # test_a_dropped_merge_on_a_kept_alive_connection_reaches_github_once fails if
            # aiohttp renames the attribute).
            if hasattr(self._session, "_retry_connection"):
                self._session._retry_connection = False

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def mask(self, text: str) -> str:
        """`text` with every token this transport has sent replaced by `***`."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _mask_bytes(self, body: bytes) -> bytes:
        for secret in self._secrets:
            body = body.replace(secret.encode(), b"***")
        return body

    def _token_rejected(self, headers: Mapping[str, str]) -> bool:
        """Tell a token source that can mint another one (a GitHub App installation) that
        GitHub refused the token just sent; True when a new one will be tried."""
        rejected = getattr(self._tokens, "rejected", None)
        if rejected is None:
            return False
        sent = headers["Authorization"].removeprefix("Bearer ")
        return bool(rejected(sent))

    async def request(
        self,
        method: str,
        url: str,
        *,
        endpoint: str,
        body: JSON = None,
        params: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        label: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Response:
        """Send one logical request, retrying what is safe to retry.

        `url` must already be percent-encoded; `endpoint` is the template counted in metrics
        (`PUT /repos/{owner}/{repo}/pulls/{number}/merge`), `label` the concrete request named
        in logs and errors (default: `endpoint`). Non-idempotent writes are not retried once
        they may have reached GitHub: `WriteUncertain`.
        """
        shown = label or endpoint
        if self._session is None:
            await self.open()
        assert self._session is not None
        safe = method in SAFE_METHODS if idempotent is None else idempotent
        target = URL(url, encoded=True)
        if params:
            target = target.with_query(params)
        attempts = self.policy.attempts
        attempt = 0
        reminted = False
        while True:
            attempt += 1
            headers = await self._headers()
            if extra_headers:
                headers.update(extra_headers)
            try:
                async with self._session.request(
                    method, target, json=body, headers=headers
                ) as resp:
                    # A proxy's error page may echo the request headers back: the token
                    # must not travel on into messages, logs or the API from there.
                    payload = self._mask_bytes(await resp.read())
                    response = Response(
                        resp.status, {k.lower(): v for k, v in resp.headers.items()}, payload
                    )
            except (TimeoutError, aiohttp.ClientError) as exc:
                reason = self._failure_reason(exc)
                outcome = "timeout" if isinstance(exc, TimeoutError) else "connection"
                self.counters.count(endpoint, outcome)
                not_sent = isinstance(
                    exc, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError
                )
                if not safe and not not_sent:
                    raise WriteUncertain(
                        f"no answer ({reason}); the write may have been applied, "
                        "re-read before retrying",
                        endpoint=shown,
                    ) from None
                if attempt == attempts:
                    raise Unavailable(
                        f"no answer after {attempts} attempts ({reason})", endpoint=shown
                    ) from None
                await self._back_off(shown, attempt, reason)
                continue

            self.counters.count(endpoint, str(response.status))
            log.debug(
                "github.request",
                method=method,
                endpoint=shown,
                status=response.status,
                attempt=attempt,
                rate_remaining=response.headers.get("x-ratelimit-remaining"),
            )
            if response.status == 401:
                if not reminted and self._token_rejected(headers):
                    # A revoked installation token: mint a new one now rather than fail until
                    # its scheduled refresh. GitHub applied nothing, so even a write may go again.
                    reminted = True
                    attempt -= 1
                    log.warning("github.token_rejected", endpoint=shown, action="new token")
                    continue
                # The message is the whole story for an operator; the endpoint rides along.
                why = response.message or "Bad credentials"
                rejected = AuthError(f"GitHub rejected the token (401 {why})", status=401)
                rejected.endpoint = shown
                raise rejected
            if is_rate_limited(response.status, response.headers, response.message):
                wait = rate_limit_wait(response.headers, self._clock.now())
                if attempt == attempts:
                    raise RateLimited(
                        f"still rate limited after {attempts} attempts",
                        endpoint=shown,
                        wait=wait,
                        until=reset_time(response.headers),
                    )
                await self.wait_for_rate_limit(shown, wait, response.status)
                continue
            if response.status >= 500:
                reason = f"HTTP {response.status}"
                if not safe:
                    raise WriteUncertain(
                        f"GitHub answered {response.status}; the write may have been applied, "
                        "re-read before retrying",
                        endpoint=shown,
                        status=response.status,
                    )
                if attempt == attempts:
                    raise Unavailable(
                        f"GitHub answered {response.status} for all {attempts} attempts",
                        endpoint=shown,
                        status=response.status,
                    )
                await self._back_off(shown, attempt, reason)
                continue
            return response

    async def wait_for_rate_limit(self, endpoint: str, wait: float, status: int = 0) -> None:
        """Sleep through a rate limit on the injected clock, or raise when it is too long."""
        cap = self.policy.max_rate_limit_wait
        if wait > cap:
            log.warning("github.rate_limited", endpoint=endpoint, status=status, wait=wait, cap=cap)
            raise RateLimited(
                f"rate limited for {wait:.0f}s, more than the {cap:.0f}s allowed to wait",
                endpoint=endpoint,
                wait=wait,
            )
        log.info("github.rate_limit_wait", endpoint=endpoint, status=status, wait=round(wait, 3))
        await self._clock.sleep(wait)

    async def _back_off(self, endpoint: str, attempt: int, reason: str) -> None:
        delay = backoff_delay(self.policy, attempt, self._rng)
        log.info(
            "github.retry", endpoint=endpoint, attempt=attempt, reason=reason, delay=round(delay, 3)
        )
        await self._clock.sleep(delay)

    async def _headers(self) -> dict[str, str]:
        token = await self._tokens.token()
        if not token:
            raise AuthError("no GitHub token: the token source returned an empty token")
        self._secrets[token] = None
        if len(self._secrets) > MASKED_TOKENS:
            del self._secrets[next(iter(self._secrets))]
        return {
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": USER_AGENT,
        }

    def _failure_reason(self, exc: BaseException) -> str:
        if isinstance(exc, TimeoutError):
            return "timeout"
        detail = self.mask(str(exc)).splitlines()[0] if str(exc) else ""
        name = type(exc).__name__
        return f"{name}: {detail}" if detail else name


def path(template: str, **params: str | int) -> str:
    """`template` with each `{name}` filled in, percent-encoded; refs and branches keep `/`."""
    encoded = {
        key: quote(str(value), safe="/" if key in ("ref", "branch", "basehead") else "")
        for key, value in params.items()
    }
    return template.format(**encoded)
