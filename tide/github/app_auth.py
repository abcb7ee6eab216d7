"""GitHub App authentication: a JWT signed with the App's private key buys installation
tokens, one per installation (usually one per org), each refreshed before it expires.

    app = GitHubApp.from_settings(config.github.app, api_url=config.github.api_url)
    async with GitHub(endpoint, app.for_org("kubernetes")) as gh:   # sees that org's repos
        ...
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import structlog

from tide.clock import Clock, RealClock
from tide.github.budget import parse_time
from tide.github.client import DEFAULT_API_URL
from tide.github.errors import AuthError, GitHubError, NotFound
from tide.github.http import JSON, HttpTransport, Response, path
from tide.github.retry import RetryPolicy

if TYPE_CHECKING:  # jwt and cryptography load only with App auth: a token daemon saves ~7 MB
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

log = structlog.get_logger()

# GitHub's advice: date `iat` a minute back against clock drift; `exp` may be at most ten
# minutes ahead, and a host clock a little fast would push exactly ten over the limit.
JWT_BACKDATE = 60
JWT_LIFETIME = 540
# Mint a new installation token this long before the current one expires.
REFRESH_MARGIN = 300.0
PAGE_SIZE = 100

LIST_INSTALLATIONS = "GET /app/installations"
TOKEN_PATH = "/app/installations/{installation_id}/access_tokens"
CREATE_TOKEN = f"POST {TOKEN_PATH}"


class AppCredentials(Protocol):
    """What the config's `github.app` holds (`tide.config.AppSettings` fits)."""

    @property
    def app_id(self) -> int: ...

    @property
    def private_key_file(self) -> str: ...

    @property
    def installation_id(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class Installation:
    """One installation of the App, on an org (or a user) account."""

    id: int
    account: str
    account_type: str  # "Organization" or "User"
    repository_selection: str  # "all" or "selected"
    permissions: Mapping[str, str]


def load_private_key(file: str | Path) -> RSAPrivateKey:
    """The App's RSA private key from the PEM file GitHub let you download; errors name the
    file and never quote it."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    where = f"github.app.private_key_file {file}"
    try:
        data = Path(file).read_bytes()
    except OSError as exc:
        raise AuthError(f"cannot read {where}: {exc.strerror or type(exc).__name__}") from None
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise AuthError(
            f"{where} is not an unencrypted PEM private key "
            "(use the .pem file GitHub generates for the App)"
        ) from None
    if not isinstance(key, RSAPrivateKey):
        raise AuthError(f"{where} is not an RSA key; GitHub Apps sign their JWTs with RS256")
    return key


class _AppJwt:
    """The token source of requests made as the App itself: a fresh JWT each time."""

    __slots__ = ("_app",)

    def __init__(self, app: GitHubApp) -> None:
        self._app = app

    async def token(self) -> str:
        return self._app.sign_jwt()

    def __repr__(self) -> str:
        return "AppJwt(***)"


class GitHubApp:
    """One GitHub App: signs JWTs, finds its installations, mints their tokens."""

    def __init__(
        self,
        app_id: int,
        private_key: RSAPrivateKey,
        *,
        api_url: str = DEFAULT_API_URL,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
        refresh_margin: float = REFRESH_MARGIN,
    ) -> None:
        self.app_id = app_id
        self.api_url = api_url.rstrip("/")
        self.clock = clock or RealClock()
        self.retry = retry or RetryPolicy()
        self.refresh_margin = refresh_margin
        self._key = private_key
        self._installations: dict[str, Installation] | None = None
        self._listing = asyncio.Lock()
        self._by_org: dict[str, InstallationToken] = {}

    @classmethod
    def from_settings(
        cls,
        settings: AppCredentials,
        *,
        api_url: str = DEFAULT_API_URL,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
    ) -> GitHubApp:
        """The App of the config's `github.app`; reads the key now, so a bad file fails early."""
        key = load_private_key(settings.private_key_file)
        return cls(settings.app_id, key, api_url=api_url, clock=clock, retry=retry)

    def __repr__(self) -> str:
        return f"GitHubApp(app_id={self.app_id}, api_url={self.api_url!r})"

    # -- token sources ------------------------------------------------------------------

    def for_org(self, org: str) -> InstallationToken:
        """The token source of the installation on `org` (found with `GET /app/installations`);
        the same object for every call with that org."""
        key = org.lower()
        source = self._by_org.get(key)
        if source is None:

            async def resolve(refresh: bool) -> int:
                return (await self.installation_for(org, refresh=refresh)).id

            source = InstallationToken(self, resolve, f"org {org}")
            self._by_org[key] = source
        return source

    def for_installation(self, installation_id: int) -> InstallationToken:
        """The token source of one installation known by id (`github.app.installation_id`)."""

        async def resolve(refresh: bool) -> int:
            return installation_id

        return InstallationToken(
            self, resolve, f"installation {installation_id}", pinned=installation_id
        )

    def for_sole_installation(self) -> InstallationToken:
        """The token source of the App's only installation; refuses to guess among several."""

        async def resolve(refresh: bool) -> int:
            found = await self.installations(refresh=refresh)
            if len(found) == 1:
                return found[0].id
            if not found:
                raise AuthError(f"GitHub App {self.app_id} is not installed on any account")
            accounts = ", ".join(f"{i.account} ({i.id})" for i in found)
            raise AuthError(
                f"GitHub App {self.app_id} is installed on {len(found)} accounts: {accounts}; "
                "set github.app.installation_id to the one to use"
            )

        return InstallationToken(self, resolve, "its only installation")

    # -- requests made as the App ---------------------------------------------------------

    def sign_jwt(self) -> str:
        """A JWT as GitHub requires: RS256, issued a minute back, valid for nine minutes."""
        now = int(self.clock.now().timestamp())
        claims = {"iat": now - JWT_BACKDATE, "exp": now + JWT_LIFETIME, "iss": str(self.app_id)}
        import jwt

        return jwt.encode(claims, self._key, algorithm="RS256")

    async def identity(self) -> str:
        """Who the App is (`GET /app`), for the start-up check: `slug[bot] (App 123)`."""
        response = await self._request("GET", "/app", endpoint="GET /app")
        doc = self._document(response, "GET /app", expect=200)
        slug = doc.get("slug") if isinstance(doc, dict) else None
        return f"{slug}[bot] (GitHub App {self.app_id})" if slug else f"GitHub App {self.app_id}"

    async def installations(self, *, refresh: bool = False) -> tuple[Installation, ...]:
        """Every installation of the App (all pages), listed once and then remembered."""
        async with self._listing:
            if self._installations is None or refresh:
                found = await self._list_installations()
                self._installations = {i.account.lower(): i for i in found}
                log.info(
                    "github_app.installations",
                    app_id=self.app_id,
                    accounts=sorted(i.account for i in found),
                )
            return tuple(sorted(self._installations.values(), key=lambda i: i.account.lower()))

    async def installation_for(self, org: str, *, refresh: bool = False) -> Installation:
        """The installation on `org`; the list is read again once before giving up, so an
        App installed since the last look is found."""
        found = await self.installations(refresh=refresh)
        match = _on_account(found, org)
        if match is None and not refresh:
            found = await self.installations(refresh=True)
            match = _on_account(found, org)
        if match is not None:
            return match
        installed = ", ".join(i.account for i in found) or "no account"
        raise AuthError(
            f"GitHub App {self.app_id} is not installed on {org} (installed on: {installed}); "
            f"install it on {org} with the permissions in docs/operations.md"
        )

    async def create_token(self, installation_id: int) -> tuple[str, datetime]:
        """A new installation token and when it expires (`POST .../access_tokens`)."""
        url = path(TOKEN_PATH, installation_id=installation_id)
        label = f"POST {url}"
        response = await self._request("POST", url, endpoint=CREATE_TOKEN, label=label)
        if response.status == 404:
            raise NotFound(
                f"GitHub App {self.app_id} has no installation {installation_id}",
                endpoint=label,
                status=404,
            )
        if response.status == 403:
            raise AuthError(
                f"GitHub App {self.app_id}: installation {installation_id} refused a token: "
                f"{response.message}",
                endpoint=label,
                status=403,
            )
        doc = self._document(response, label, expect=201)
        token, expires_at = doc.get("token"), doc.get("expires_at")
        if not isinstance(token, str) or not token or not isinstance(expires_at, str):
            raise GitHubError("the answer has no token or expires_at", endpoint=label)
        return token, parse_time(expires_at)

    async def _list_installations(self) -> list[Installation]:
        found: list[Installation] = []
        for page in range(1, 1000):
            params = {"per_page": str(PAGE_SIZE), "page": str(page)}
            response = await self._request(
                "GET", "/app/installations", endpoint=LIST_INSTALLATIONS, params=params
            )
            doc = self._document(response, LIST_INSTALLATIONS, expect=200)
            if not isinstance(doc, list):
                raise GitHubError("the answer is not a list", endpoint=LIST_INSTALLATIONS)
            found += [_installation(item) for item in doc if isinstance(item, dict)]
            if len(doc) < PAGE_SIZE:
                break
        return found

    async def _request(
        self,
        method: str,
        url_path: str,
        *,
        endpoint: str,
        label: str | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Response:
        # A session of its own per call: these calls are rare (one per installation per hour)
        # and the App then owns nothing that needs closing.
        transport = HttpTransport(_AppJwt(self), self.clock, policy=self.retry)
        try:
            return await transport.request(
                method,
                self.api_url + url_path,
                endpoint=endpoint,
                label=label,
                params=params,
                # Minting a token twice is harmless, so a lost answer may be retried.
                idempotent=True,
            )
        except AuthError as exc:
            raise AuthError(
                f"GitHub rejected the JWT of GitHub App {self.app_id}: check that "
                "github.app.app_id and private_key_file belong to the same App, and that "
                "this host's clock is right",
                endpoint=exc.endpoint,
                status=exc.status,
            ) from None
        finally:
            await transport.close()

    def _document(self, response: Response, label: str, *, expect: int) -> JSON:
        if response.status != expect:
            raise GitHubError(
                f"GitHub answered {response.status}: {response.message}",
                endpoint=label,
                status=response.status,
            )
        doc = response.json()
        if doc is None:
            raise GitHubError("the answer is not JSON", endpoint=label, status=response.status)
        return doc


class InstallationToken:
    """A `TokenSource`: the current token of one installation, minted on first use and again
    `refresh_margin` seconds before it expires; concurrent callers share one exchange."""

    __slots__ = ("_app", "_expires_at", "_id", "_lock", "_pinned", "_resolve", "_value", "what")

    def __init__(
        self,
        app: GitHubApp,
        resolve: Callable[[bool], Awaitable[int]],
        what: str,
        *,
        pinned: int | None = None,
    ) -> None:
        self._app = app
        self._resolve = resolve  # refresh=True: look the installation up again
        self.what = what
        self._pinned = pinned
        self._id = pinned
        self._value: str | None = None
        self._expires_at: datetime | None = None
        self._lock = asyncio.Lock()

    @property
    def installation_id(self) -> int | None:
        """The installation's id, once known (given, or found on first use)."""
        return self._id

    @property
    def expires_at(self) -> datetime | None:
        return self._expires_at

    async def token(self) -> str:
        if not self._fresh():
            async with self._lock:
                if not self._fresh():
                    await self._mint()
        assert self._value is not None
        return self._value

    def rejected(self, token: str) -> bool:
        """GitHub answered 401 to `token` (revoked, or the installation's permissions
        changed): forget it, so the next request mints a new one at once."""
        if self._value == token:
            log.warning(
                "github_app.token_rejected",
                app_id=self._app.app_id,
                installation_id=self._id,
                installation=self.what,
            )
            self._value, self._expires_at = None, None
        return True

    def _fresh(self) -> bool:
        if self._value is None or self._expires_at is None:
            return False
        margin = timedelta(seconds=self._app.refresh_margin)
        return self._app.clock.now() < self._expires_at - margin

    async def _mint(self) -> None:
        if self._id is None:
            self._id = await self._resolve(False)
        try:
            value, expires_at = await self._app.create_token(self._id)
        except NotFound:
            if self._pinned is not None:
                raise AuthError(
                    f"GitHub App {self._app.app_id} has no installation {self._pinned}: "
                    "check github.app.installation_id"
                ) from None
            # Uninstalled and installed again: the account keeps its name, not its id.
            self._id = await self._resolve(True)
            value, expires_at = await self._app.create_token(self._id)
        self._value, self._expires_at = value, expires_at
        log.info(
            "github_app.token_minted",
            app_id=self._app.app_id,
            installation_id=self._id,
            installation=self.what,
            expires_at=expires_at.isoformat(),
        )

    def __repr__(self) -> str:
        return f"InstallationToken(app_id={self._app.app_id}, {self.what}, ***)"


def _on_account(found: tuple[Installation, ...], account: str) -> Installation | None:
    # GitHub logins are case-insensitive; the config may spell an org differently.
    return next((i for i in found if i.account.lower() == account.lower()), None)


def _installation(item: dict[str, JSON]) -> Installation:
    account = item.get("account") or {}
    return Installation(
        id=int(item["id"]),
        account=str(account.get("login", "")),
        account_type=str(account.get("type") or item.get("target_type") or ""),
        repository_selection=str(item.get("repository_selection", "")),
        permissions={str(k): str(v) for k, v in (item.get("permissions") or {}).items()},
    )


def app_token_source(
    settings: AppCredentials,
    *,
    api_url: str = DEFAULT_API_URL,
    clock: Clock | None = None,
    retry: RetryPolicy | None = None,
) -> InstallationToken:
    """The one token source of a single-client daemon: `installation_id` when the config
    names one, else the App's only installation."""
    app = GitHubApp.from_settings(settings, api_url=api_url, clock=clock, retry=retry)
    if settings.installation_id is not None:
        return app.for_installation(settings.installation_id)
    return app.for_sole_installation()
