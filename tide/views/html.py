"""A tiny HTML builder that escapes by default: PR titles, labels, logins and branch names
are untrusted, so text only becomes markup by passing through `el()` or `escape()`.

    el("td", pr.title, class_="title")   ->  <td class="title">&lt;script&gt;…</td>
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from urllib.parse import quote, urlsplit

VOID = frozenset({"meta", "link", "input", "br", "hr", "img"})
URL_ATTRS = frozenset({"href", "src", "action"})


class Markup(str):
    """A string that is already safe HTML; only this module should make one."""

    __slots__ = ()


Child = Markup | str | int | float | None | Iterable["Child"]


def escape(value: object) -> Markup:
    return value if isinstance(value, Markup) else Markup(html.escape(str(value), quote=True))


def render(child: Child) -> Markup:
    if child is None:
        return Markup("")
    if isinstance(child, str | int | float):
        return escape(child)
    return Markup("".join(render(c) for c in child))


def safe_url(url: str) -> str:
    """Only http(s) and our own absolute paths; `javascript:` and friends become `#`."""
    url = url.strip()
    if url.startswith("/") and not url.startswith("//"):
        return url
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return url
    return "#"


def path(*segments: str | int) -> str:
    """An absolute path with every segment percent-encoded (branch names may hold `/`)."""
    return "/" + "/".join(quote(str(s), safe="") for s in segments)


def _attr(name: str, value: str | int | bool | None) -> str:
    name = name.rstrip("_").replace("_", "-")
    if value is None or value is False:
        return ""
    if value is True:
        return f" {name}"
    text = str(value)
    if name in URL_ATTRS:
        text = safe_url(text)
    return f' {name}="{html.escape(text, quote=True)}"'


def el(tag: str, *children: Child, **attrs: str | int | bool | None) -> Markup:
    """`<tag attrs>children</tag>`; attribute `class_` is `class`, `data_x` is `data-x`."""
    opening = f"<{tag}{''.join(_attr(k, v) for k, v in attrs.items())}>"
    if tag in VOID:
        return Markup(opening)
    return Markup(f"{opening}{render(children)}</{tag}>")


def shorten(text: str, limit: int = 120) -> str:
    """Long titles are cut for tables; the PR page shows them whole."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def page(title: str, body: Child, *, refresh: int | None = None) -> Markup:
    """The document around every dashboard page: viewport for phones, our stylesheet only."""
    head = [
        el("meta", charset="utf-8"),
        el("meta", name="viewport", content="width=device-width, initial-scale=1"),
        el("meta", http_equiv="refresh", content=refresh) if refresh else None,
        el("title", title),
        el("link", rel="stylesheet", href="/ui/static/tide.css"),
    ]
    nav = el(
        "nav",
        el("a", "tide", href="/ui", class_="brand"),
        el("a", "queue", href="/ui"),
        el("a", "history", href="/ui/history"),
        el(
            "form",
            el("input", name="pr", placeholder="org/repo#123", aria_label="pull request"),
            el("button", "why not merging?", type="submit"),
            action="/ui/pr",
            method="get",
        ),
    )
    document = el(
        "html", el("head", head), el("body", el("header", nav), el("main", body)), lang="en"
    )
    return Markup("<!doctype html>\n" + document)
