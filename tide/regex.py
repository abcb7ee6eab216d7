"""Regexes from config, compiled with RE2 as Prow compiles them (Go's `regexp`).

RE2 matches in time linear in the text, so a pattern such as `^(\\w+-?)+-optional$` cannot
stall the event loop on a context name a pull request's own workflow chose. What RE2 refuses
(lookarounds, backreferences) Prow refuses too, so the config loader rejects it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Protocol

import re2


class Pattern(Protocol):
    def search(self, text: str) -> object | None: ...


class RegexError(ValueError):
    """RE2 refused the pattern; the message says why, in RE2's words."""


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # RE2 would print the refusal on stderr; we report it instead
    return options


_OPTIONS = _options()


@lru_cache(maxsize=1024)
def compile_regex(pattern: str) -> Pattern:
    """`pattern` compiled with RE2; `RegexError` when RE2 does not accept it."""
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "not a valid regex"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise RegexError(f"RE2 (the regex engine Prow uses) refuses it: {reason}") from None


def regex_problem(pattern: str) -> str | None:
    """Why RE2 refuses `pattern`, or None when it compiles."""
    try:
        compile_regex(pattern)
    except RegexError as exc:
        return str(exc)
    return None
