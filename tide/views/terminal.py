"""Text from GitHub made safe and measured for a terminal: no control characters, and widths
counted in display columns (a CJK character takes two, a combining accent none).

A PR title is written by whoever opened the PR: an escape sequence in it could retitle the
operator's terminal window, clear the screen or hide lines of `tide status`.
"""

from __future__ import annotations

import unicodedata

from wcwidth import wcwidth

# Bidirectional overrides and isolates reorder what follows them ("Trojan Source").
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _printable(char: str) -> bool:
    if char in _BIDI:
        return False
    # Cc: C0/C1 controls (ESC, BEL, CR, DEL...); Cs: lone surrogates.
    return unicodedata.category(char) not in ("Cc", "Cs")


def plain(text: str) -> str:
    """One line of `text` without control characters; whitespace runs become one space."""
    return "".join(c for c in " ".join(text.split()) if _printable(c))


def width(text: str) -> int:
    """Display columns `text` (already `plain`) takes."""
    return sum(max(0, wcwidth(c)) for c in text)


def clip(text: str, columns: int) -> str:
    """`plain(text)` cut to at most `columns` display columns, with "…" when cut."""
    text = plain(text)
    if width(text) <= columns:
        return text
    out, used = [], 0
    for c in text:
        w = max(0, wcwidth(c))
        if used + w > columns - 1:
            break
        out.append(c)
        used += w
    return "".join(out) + "…"


def pad(text: str, columns: int) -> str:
    """`text` followed by spaces up to `columns` display columns."""
    return text + " " * max(0, columns - width(text))


def safe_lines(text: str) -> str:
    """Every line of `text` without control characters (newlines kept): the last guard
    before anything reaches the terminal."""
    return "\n".join(
        "".join(c for c in line if c == "\t" or _printable(c)) for line in text.split("\n")
    )
