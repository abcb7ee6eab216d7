"""Where the GitHub token comes from: a `TokenSource`, and the static one read from env or file.

GitHub App installation tokens are another `TokenSource`: `tide.github.app_auth`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from tide.github.errors import AuthError
from tide.redaction import redact

DEFAULT_TOKEN_ENV = "GITHUB_TOKEN"


class TokenSource(Protocol):
    async def token(self) -> str:
        """A token valid for the next request; raises `AuthError` when there is none."""
        ...


class StaticToken:
    """One long-lived token (a PAT or a fixed installation token); never shown in its repr."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        value = value.strip()
        if not value:
            raise AuthError(_missing_message(DEFAULT_TOKEN_ENV))
        self._value = value

    async def token(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "StaticToken(***)"


def static_token(
    *,
    token_env: str = DEFAULT_TOKEN_ENV,
    token_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> StaticToken:
    """The token of the config's `github:` section: `token_file` when set, else `$token_env`."""
    if token_file is not None:
        path = Path(token_file)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise AuthError(
                f"no GitHub token: cannot read github.token_file {path}: {reason}"
            ) from None
        if not text.strip():
            raise AuthError(f"no GitHub token: github.token_file {path} is empty")
        return StaticToken(text)
    env = os.environ if environ is None else environ
    value = env.get(token_env, "").strip()
    if not value:
        raise AuthError(_missing_message(token_env))
    return StaticToken(value)


def _missing_message(token_env: str) -> str:
    # A token pasted as the variable's name must not come back in the message.
    return f"no GitHub token: set {redact(token_env)} or github.token_file"
