"""Where the token comes from, and that it never shows."""

from __future__ import annotations

import pytest

from tide.github.auth import StaticToken, static_token
from tide.github.errors import AuthError

SECRET = "ghp_supersecretvalue123"


async def test_token_is_read_from_the_configured_environment_variable():
    source = static_token(token_env="MY_TOKEN", environ={"MY_TOKEN": f"  {SECRET}\n"})

    assert await source.token() == SECRET


async def test_token_file_is_read_and_stripped(tmp_path):
    path = tmp_path / "token"
    path.write_text(f"\n{SECRET}  \n")

    source = static_token(token_file=path, environ={})

    assert await source.token() == SECRET


def test_missing_token_is_one_clear_error():
    with pytest.raises(AuthError) as caught:
        static_token(environ={})

    assert str(caught.value) == "no GitHub token: set GITHUB_TOKEN or github.token_file"


def test_empty_token_is_the_same_clear_error():
    with pytest.raises(AuthError) as caught:
        static_token(environ={"GITHUB_TOKEN": "   "})

    assert str(caught.value) == "no GitHub token: set GITHUB_TOKEN or github.token_file"


def test_empty_or_missing_token_file_names_the_file(tmp_path):
    empty = tmp_path / "empty"
    empty.write_text("\n")

    with pytest.raises(AuthError, match="empty"):
        static_token(token_file=empty)
    with pytest.raises(AuthError, match=r"cannot read github\.token_file"):
        static_token(token_file=tmp_path / "absent")


def test_token_never_appears_in_a_repr():
    source = StaticToken(SECRET)

    assert SECRET not in repr(source)
    assert SECRET not in str(source)
