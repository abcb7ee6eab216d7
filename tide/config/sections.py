"""This project's own config sections: `github`, `server`, `webhooks`, `history` and `log`.

Prow's `tide:` section lives in `tide_section.py`, `queue:` in `queue_section.py`.
"""

from __future__ import annotations

import ipaddress
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from tide.config.base import StrictModel
from tide.config.duration import Duration
from tide.config.problems import Issue, reject
from tide.redaction import looks_like_secret

DEFAULT_TOKEN_ENV = "GITHUB_TOKEN"
_TOKEN_SOURCES = ("token_env", "token_file", "app")


def _check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f'"{value}" is not an http(s) URL')
    return value.rstrip("/")


def _secure_or_loopback(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "https":
        return True
    host = parts.hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class AppSettings(StrictModel):
    """GitHub App credentials; the App token flow itself lives in `tide.github`."""

    app_id: int = Field(gt=0)
    private_key_file: str = Field(min_length=1)
    installation_id: int | None = Field(default=None, gt=0)


class GitHubSettings(StrictModel):
    """Where GitHub is and how to authenticate: exactly one of token_env, token_file and app."""

    graphql_url: str = "https://api.github.com/graphql"
    api_url: str = "https://api.github.com"
    token_env: str | None = None
    token_file: str | None = None
    app: AppSettings | None = None

    # Plain http sends the token in clear: only for the simulator on loopback, or when an
    # operator says so by name (a GitHub Enterprise test box on a trusted network).
    allow_insecure_http: bool = False

    @field_validator("graphql_url", "api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return _check_url(value)

    @model_validator(mode="before")
    @classmethod
    def _one_token_source(cls, data: object) -> object:
        if not isinstance(data, dict):
            return data
        chosen = [key for key in data if key in _TOKEN_SOURCES]
        if not chosen:
            return {**data, "token_env": DEFAULT_TOKEN_ENV}
        if len(chosen) > 1:
            # Checked on the raw mapping so the problem points at the later key in the file.
            message = f"{chosen[0]} is already set; use only one of token_env, token_file, app"
            reject([Issue((key,), message) for key in chosen[1:]])
        return data

    @model_validator(mode="after")
    def _names_not_empty(self) -> GitHubSettings:
        issues = []
        if self.token_env == "":
            issues.append(Issue(("token_env",), "must name an environment variable"))
        if self.token_file == "":
            issues.append(Issue(("token_file",), "must name a file"))
        for key in ("token_env", "token_file"):
            if looks_like_secret(getattr(self, key) or ""):
                message = (
                    "holds what looks like a token itself (redacted here), not the name of "
                    f"{'an environment variable' if key == 'token_env' else 'a file'}; "
                    "put the token there and revoke this one, it has been in a file"
                )
                issues.append(Issue((key,), message))
        for key in ("graphql_url", "api_url"):
            url = getattr(self, key)
            if not self.allow_insecure_http and not _secure_or_loopback(url):
                message = (
                    f'"{url}" would send the token unencrypted; use https, or set '
                    "github.allow_insecure_http: true if this network is trusted"
                )
                issues.append(Issue((key,), message))
        if issues:
            reject(issues)
        return self


class ServerSettings(StrictModel):
    """The HTTP status API, metrics and dashboard."""

    enabled: bool = True
    address: str = "127.0.0.1"
    port: int = Field(default=8888, ge=0, le=65535)
    # Off loopback: a bearer token the dashboard and API ask for (the variable or file
    # holding it), and/or the Host names they answer to. See docs/operations.md.
    auth_token_env: str | None = None
    auth_token_file: str | None = None
    allowed_hosts: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_token_source(self) -> ServerSettings:
        if self.auth_token_env and self.auth_token_file:
            reject([Issue(("auth_token_file",), "auth_token_env is already set; use only one")])
        for key in ("auth_token_env", "auth_token_file"):
            if looks_like_secret(getattr(self, key) or ""):
                message = "holds what looks like a token itself (redacted here), not its name"
                reject([Issue((key,), message)])
        return self


class WebhookSettings(StrictModel):
    """GitHub webhook deliveries on the daemon's HTTP server: a sync within seconds of an
    event, with polling kept as the safety net. The secret comes from a file or the env."""

    enabled: bool = False
    path: str = "/webhook"
    # Serve the endpoint on its own address and port, apart from the dashboard and API, so
    # that only this port needs to be reachable from GitHub (None: on `server.port`).
    address: str | None = None
    port: int | None = Field(default=None, ge=0, le=65535)
    secret_env: str | None = None
    secret_file: str | None = None
    debounce: Duration = 2.0

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f'"{value}" must start with "/"')
        return value

    @model_validator(mode="after")
    def _secret_when_enabled(self) -> WebhookSettings:
        if self.secret_env and self.secret_file:
            reject([Issue(("secret_file",), "secret_env is already set; use only one")])
        if self.enabled and not (self.secret_env or self.secret_file):
            message = "webhooks need a secret: set secret_env or secret_file"
            reject([Issue(("enabled",), message)])
        return self


class HistorySettings(StrictModel):
    """Where the record of actions taken is kept across restarts."""

    path: str = Field(default="var/history.json", min_length=1)


class LogSettings(StrictModel):
    """structlog output: `auto` is console on a terminal, JSON otherwise."""

    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["auto", "json", "console"] = "auto"
