"""Who may read the dashboard and the API: anyone on loopback by default; off loopback, an
optional bearer token (`server.auth_token_env` / `auth_token_file`) and an optional list of
`Host` names (`server.allowed_hosts`, which also stops DNS rebinding).

Probes and scrapers (`/healthz`, `/readyz`, `/metrics`) and the webhook (signed on its own)
stay open: they reveal nothing a reader could act on and must work without credentials.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from pathlib import Path

from aiohttp import web

from tide.config.sections import ServerSettings

OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def is_loopback(address: str) -> bool:
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def host_name(header: str) -> str:
    """`Host` without its port: `tide.example.com:8888` -> `tide.example.com`."""
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rpartition(":")[0] if header.count(":") == 1 else header


class Access:
    """The checks one request passes before a dashboard page or API answer."""

    def __init__(self) -> None:
        self._token: tuple[tuple[object, ...], str] | None = None

    def refusal(self, settings: ServerSettings, request: web.Request) -> web.Response | None:
        """None when `request` may be answered; otherwise the answer that refuses it."""
        if request.path in OPEN_PATHS or request.method == "POST":
            return None  # the webhook endpoint checks its own signature
        if settings.allowed_hosts:
            host = host_name(request.headers.get("Host", "")).lower()
            if host not in {h.lower() for h in settings.allowed_hosts}:
                return web.json_response(
                    {"error": "this Host is not in server.allowed_hosts"}, status=421
                )
        expected = self._expected_token(settings)
        if expected is None:
            return None
        given = request.headers.get("Authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            value.strip().encode("utf-8", "surrogateescape"), expected.encode()
        ):
            return None
        return web.json_response(
            {"error": "a bearer token is required (server.auth_token_env or auth_token_file)"},
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="tide"'},
        )

    def _expected_token(self, settings: ServerSettings) -> str | None:
        if settings.auth_token_env:
            value = os.environ.get(settings.auth_token_env, "").strip()
            return value or "\0unset"  # configured but empty: nobody gets in, not everybody
        if settings.auth_token_file:
            path = Path(settings.auth_token_file)
            try:
                st = path.stat()
                key: tuple[object, ...] = (str(path), st.st_ino, st.st_mtime_ns, st.st_size)
                if self._token is None or self._token[0] != key:
                    self._token = (key, path.read_text(encoding="utf-8").strip())
            except OSError:
                return "\0unreadable"
            return self._token[1] or "\0unset"
        return None


def exposed_without_protection(settings: ServerSettings) -> bool:
    """Listening beyond loopback with neither a token nor a Host list: worth a warning."""
    protected = settings.auth_token_env or settings.auth_token_file or settings.allowed_hosts
    return not is_loopback(settings.address) and not protected
