"""The GraphQL documents of `queries/`, loaded by name with the fragments they use."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import tide

FRAGMENTS_FILE = "_fragments.graphql"


def queries_dir() -> Path:
    """`queries/` beside the package in a checkout, or inside it when installed as a wheel."""
    packaged = Path(tide.__file__).parent / "queries"
    if packaged.is_dir():
        return packaged
    return Path(tide.__file__).parent.parent / "queries"


def document_names() -> list[str]:
    return sorted(p.stem for p in queries_dir().glob("*.graphql") if p.name != FRAGMENTS_FILE)


@cache
def document(name: str) -> str:
    """The text of `queries/<name>.graphql` followed by every fragment it spreads."""
    text = (queries_dir() / f"{name}.graphql").read_text(encoding="utf-8")
    fragments = _fragments()
    needed: list[str] = []
    pending = _spreads(text)
    while pending:
        frag = pending.pop()
        if frag in needed or frag not in fragments:
            continue
        needed.append(frag)
        pending.extend(_spreads(fragments[frag]))
    return "\n".join([text, *(fragments[f] for f in sorted(needed))])


def _spreads(text: str) -> list[str]:
    return re.findall(r"\.\.\.\s*([A-Za-z_]\w*)", _strip_comments(text))


def _strip_comments(text: str) -> str:
    return re.sub(r"#[^\n]*", "", text)


@cache
def _fragments() -> dict[str, str]:
    path = queries_dir() / FRAGMENTS_FILE
    if not path.exists():
        return {}
    chunks = re.split(r"(?m)^(?=fragment\s)", _strip_comments(path.read_text(encoding="utf-8")))
    out: dict[str, str] = {}
    for chunk in chunks:
        m = re.match(r"fragment\s+(\w+)\s+on\s", chunk)
        if m:
            out[m.group(1)] = chunk.strip()
    return out
