"""Recognising credentials in text that is about to be shown, so none is ever echoed back.

A token pasted into the wrong key (`token_env: ghp_...`, a duration, a label) must not reach
messages, logs, `/readyz` or the dashboard. GitHub's tokens carry a known prefix; anything
else long and random-looking is treated the same way.
"""

from __future__ import annotations

import math
import re
from collections import Counter

REDACTED = "<redacted: looks like a credential>"

# GitHub's token prefixes (personal, OAuth, user-to-server, server-to-server, refresh, and
# fine-grained personal tokens), and PEM private keys.
_PREFIXED = re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9_]{16,}|github_pat_[A-Za-z0-9_]{20,})")
_PEM = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"
)
_WORD = re.compile(r"[A-Za-z0-9+/=]{32,}")
_HEX = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_ENTROPY_BITS = 4.0  # bits per character; words and names sit well below


def _random_looking(word: str) -> bool:
    """Long, mixing letters and digits, and with the spread of characters of a random string."""
    if _HEX.fullmatch(word):
        return False  # a commit SHA or digest: public, and what messages are about
    digits = sum(c.isdigit() for c in word)
    if digits < 2 or not any(c.isalpha() for c in word):
        return False
    counts = Counter(word)
    bits = -sum(n / len(word) * math.log2(n / len(word)) for n in counts.values())
    return bits >= _ENTROPY_BITS


def looks_like_secret(text: str) -> bool:
    return redact(text) != text


def redact(text: str) -> str:
    """`text` with every credential-looking part replaced by a marker."""
    text = _PEM.sub(REDACTED, text)
    text = _PREFIXED.sub(REDACTED, text)
    return _WORD.sub(lambda m: REDACTED if _random_looking(m.group()) else m.group(), text)
