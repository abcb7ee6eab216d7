"""GitHub Apps in the simulated world: Apps and their public keys, installations on accounts,
and the installation tokens they mint (expiring, and seeing only the installation's repos)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from tide.sim.world.entities import SimRepo, SimUser

# GitHub's installation tokens live for one hour.
TOKEN_LIFETIME = timedelta(hours=1)

# What tide asks for (docs/operations.md lists why); tests may install with less.
TIDE_PERMISSIONS: Mapping[str, str] = {
    "administration": "read",
    "checks": "read",
    "contents": "write",
    "issues": "write",
    "metadata": "read",
    "pull_requests": "write",
    "statuses": "write",
}


@dataclass
class SimApp:
    id: int
    slug: str
    name: str
    owner: str
    public_key: str  # PEM; the App's private key stays with the test that registered it

    @property
    def bot_login(self) -> str:
        return f"{self.slug}[bot]"


@dataclass
class SimInstallation:
    id: int
    app_id: int
    account: str
    account_type: str  # "Organization" or "User"
    created_at: datetime
    permissions: dict[str, str] = field(default_factory=lambda: dict(TIDE_PERMISSIONS))
    repositories: frozenset[str] | None = None  # full names when "selected"; None: all
    suspended_at: datetime | None = None

    @property
    def repository_selection(self) -> str:
        return "all" if self.repositories is None else "selected"

    def sees(self, repo: SimRepo) -> bool:
        if repo.owner.lower() != self.account.lower():
            return False
        return self.repositories is None or repo.full_name in self.repositories


@dataclass(frozen=True, slots=True)
class SimInstallationToken:
    installation_id: int
    expires_at: datetime


_SCOPE: ContextVar[SimInstallation | None] = ContextVar("sim_installation_scope", default=None)


def visible(repos: dict[str, SimRepo]) -> dict[str, SimRepo]:
    """`repos`, less those the installation serving the current request cannot see."""
    scope = _SCOPE.get()
    if scope is None:
        return repos
    return {name: repo for name, repo in repos.items() if scope.sees(repo)}


@contextmanager
def scoped_to(installation: SimInstallation) -> Iterator[None]:
    """Within this block, the world shows only what `installation` may see."""
    reset = _SCOPE.set(installation)
    try:
        yield
    finally:
        _SCOPE.reset(reset)


class Accounts(Protocol):
    """What Apps need of the world (`World` is the one): its users and the tokens they
    authenticate with, fresh ids, and time."""

    tokens: dict[str, str]

    def now(self) -> datetime: ...

    def new_id(self) -> int: ...

    def user(self, login: str, *, is_bot: bool = ...) -> SimUser: ...

    def add_token(self, token: str, login: str = ..., *, is_bot: bool = ...) -> None: ...


class Apps:
    """The world's GitHub Apps: `register`, `install`, and the tokens minted for installations."""

    def __init__(self, world: Accounts) -> None:
        self._world = world
        self.apps: dict[int, SimApp] = {}
        self.installations: dict[int, SimInstallation] = {}
        self.tokens: dict[str, SimInstallationToken] = {}
        self.token_lifetime = TOKEN_LIFETIME

    def register(
        self,
        app_id: int,
        public_key: str,
        *,
        slug: str = "tide-merge-queue",
        name: str | None = None,
        owner: str = "tide-maintainers",
    ) -> SimApp:
        """An App whose JWTs verify with `public_key` (PEM)."""
        if app_id in self.apps:
            raise ValueError(f"App {app_id} is registered already")
        app = SimApp(app_id, slug, name or slug, owner, public_key)
        self.apps[app_id] = app
        self._world.user(app.bot_login, is_bot=True)
        return app

    def install(
        self,
        app_id: int,
        account: str,
        *,
        repositories: Iterable[str] | None = None,
        permissions: Mapping[str, str] | None = None,
    ) -> SimInstallation:
        """Install App `app_id` on `account` (an org, unless it owns no repository and is a
        user), for all its repositories or only `repositories` (full names)."""
        if app_id not in self.apps:
            raise KeyError(f"no App {app_id}")
        owner = self._world.user(account)
        installation = SimInstallation(
            id=self._world.new_id(),
            app_id=app_id,
            account=owner.login,
            account_type="Organization" if owner.is_org else "User",
            created_at=self._world.now(),
            permissions=dict(TIDE_PERMISSIONS if permissions is None else permissions),
            repositories=None if repositories is None else frozenset(repositories),
        )
        self.installations[installation.id] = installation
        return installation

    def suspend(self, installation_id: int) -> None:
        self.installations[installation_id].suspended_at = self._world.now()

    def of_app(self, app_id: int) -> list[SimInstallation]:
        return [i for i in self.installations.values() if i.app_id == app_id]

    def mint(self, installation: SimInstallation) -> tuple[str, SimInstallationToken]:
        """A new installation token, usable as the App's bot until it expires."""
        value = "ghs_" + secrets.token_urlsafe(27)[:36]
        minted = SimInstallationToken(installation.id, self._world.now() + self.token_lifetime)
        self.tokens[value] = minted
        self._world.add_token(value, self.apps[installation.app_id].bot_login, is_bot=True)
        return value, minted

    def installation_of(self, token: str) -> SimInstallation | None:
        minted = self.tokens.get(token)
        return None if minted is None else self.installations.get(minted.installation_id)

    def revoke(self, value: str) -> None:
        """An installation token revoked before its expiry (by the App, or an admin): GitHub
        answers 401 Bad credentials to it from now on."""
        self.tokens.pop(value, None)
        self._world.tokens.pop(value, None)

    def expire(self) -> None:
        """Forget every token past its expiry: GitHub answers 401 Bad credentials to it."""
        now = self._world.now()
        for value in [t for t, minted in self.tokens.items() if minted.expires_at <= now]:
            del self.tokens[value]
            self._world.tokens.pop(value, None)
