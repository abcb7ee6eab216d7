"""The dashboard's pages: every pool's queue, the batch in flight, blockers and history.

Server-rendered from the same views as the JSON API; no script runs in the page, and it
reloads itself every sync period.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from tide.history import History, Record
from tide.model import Blocker
from tide.views.html import Markup, el, page, path, shorten
from tide.views.overview import Overview, PoolView
from tide.views.queue import ContextView, QueueEntry, RunView, format_duration

MIN_REFRESH, MAX_REFRESH = 2, 60


def refresh_seconds(sync_period: float) -> int:
    return int(min(MAX_REFRESH, max(MIN_REFRESH, round(sync_period))))


def ago(at: datetime | None, now: datetime) -> str:
    if at is None:
        return "never"
    return f"{format_duration((now - at).total_seconds())} ago"


def pr_link(org: str, repo: str, number: int) -> Markup:
    return el("a", f"#{number}", href=path("ui", "pr", org, repo, number), class_="pr")


def badge(text: str, kind: str = "") -> Markup:
    css = "badge " + "".join(c if c.isalnum() else "-" for c in (kind or text).lower())
    return el("span", text, class_=css)


def table(headers: Sequence[str], rows: Iterable[Sequence[Markup | str]], css: str = "") -> Markup:
    head = el("thead", el("tr", [el("th", h) for h in headers]))
    body = el("tbody", [el("tr", [el("td", c) for c in row]) for row in rows])
    return el("div", el("table", head, body, class_=css), class_="scroll")


def since_text(c: ContextView, now: datetime) -> str:
    """Pending for how long, or finished how long ago."""
    if c.since is None:
        return ""
    age = format_duration((now - c.since).total_seconds())
    return f" for {age}" if c.state in ("PENDING", "EXPECTED") else f" {age} ago"


def contexts_list(contexts: Iterable[ContextView], now: datetime) -> Markup:
    items = []
    for c in contexts:
        since = since_text(c, now)
        link = el("a", c.name, href=c.url) if c.url else el("span", c.name)
        items.append(el("li", badge(c.state), " ", link, el("span", since, class_="muted")))
    return el("ul", items, class_="contexts") if items else Markup("")


def run_block(run: RunView, org: str, repo: str, now: datetime) -> Markup:
    prs = [pr_link(org, repo, n) for n in run.prs]
    joined: list[Markup | str] = []
    for i, link in enumerate(prs):
        joined += [", "] if i else []
        joined.append(link)
    return el(
        "div",
        el(
            "p",
            badge(run.outcome),
            " ",
            el("code", run.ref),
            " testing ",
            joined,
            f" on {run.base_sha[:7]}",
            el("span", f" · {format_duration(run.elapsed)} elapsed", class_="muted"),
        ),
        el("p", run.reason, class_="why"),
        contexts_list(run.contexts, now),
        class_="run",
    )


def blockers_block(blockers: Sequence[Blocker]) -> Markup:
    if not blockers:
        return Markup("")
    items = [
        el("li", el("a", f"#{b.number}", href=b.url) if b.url else f"#{b.number}", " ", b.title)
        for b in blockers
    ]
    return el("div", el("h3", "Blocked by"), el("ul", items), class_="blockers")


def queue_rows(pool: PoolView, entries: Iterable[QueueEntry]) -> list[list[Markup | str]]:
    return [
        [
            str(e.position) if e.position is not None else "–",
            pr_link(pool.org, pool.repo, e.number),
            el("span", shorten(e.title), title=e.title, class_="title"),
            e.author,
            badge(e.place.value, e.place.name),
            el("span", e.why, class_="why"),
        ]
        for e in entries
    ]


def history_rows(records: Iterable[Record], org: str, repo: str) -> list[list[Markup | str]]:
    rows: list[list[Markup | str]] = []
    for r in records:
        links: list[Markup | str] = []
        for i, t in enumerate(sorted(r.target, key=lambda t: t.number)):
            links += [" "] if i else []
            links.append(pr_link(org, repo, t.number))
        text = [el("span", r.reason, class_="why")]
        if r.err:
            text.append(el("span", f" error: {r.err}", class_="err"))
        rows.append(
            [
                r.time.strftime("%Y-%m-%d %H:%M:%S"),
                badge(r.action),
                el("span", links),
                el("span", text),
            ]
        )
    return rows


def pool_section(pool: PoolView, now: datetime) -> Markup:
    head = el(
        "h2",
        el("span", f"{pool.org}/{pool.repo}", class_="repo"),
        " ",
        el("code", pool.branch),
        " ",
        badge(pool.action),
    )
    parts: list[Markup] = [
        head,
        el("p", pool.reason, class_="why"),
        el("p", f"base {pool.base_sha[:7] or '?'}", class_="muted"),
    ]
    if pool.error:
        parts.append(el("p", pool.error, class_="err"))
    parts.append(blockers_block(pool.blockers))
    in_flight = pool.in_flight
    if in_flight:
        parts.append(el("h3", "In flight"))
        parts += [run_block(r, pool.org, pool.repo, now) for r in in_flight]
    parts.append(el("h3", f"Queue ({len(pool.queue)})"))
    if pool.queue:
        headers = ("#", "PR", "title", "author", "state", "why")
        parts.append(table(headers, queue_rows(pool, pool.queue), "queue"))
    else:
        parts.append(el("p", "No eligible pull request.", class_="muted"))
    if pool.waiting:
        parts.append(el("h3", f"Not eligible ({len(pool.waiting)})"))
        headers = ("", "PR", "title", "author", "state", "why")
        parts.append(table(headers, queue_rows(pool, pool.waiting), "waiting"))
    others = [r for r in pool.runs if not r.current]
    if others:
        runs = [run_block(r, pool.org, pool.repo, now) for r in others]
        parts.append(el("details", el("summary", f"Older staging runs ({len(others)})"), runs))
    if pool.history:
        rows = history_rows(pool.history, pool.org, pool.repo)
        parts.append(el("h3", "Recent history"))
        parts.append(table(("time (UTC)", "action", "PRs", "why"), rows, "history"))
    anchor = "pool-" + "".join(c if c.isalnum() else "-" for c in pool.key)
    return el("section", parts, class_="pool", id=anchor)


def sync_line(view: Overview) -> Markup:
    sync = view.sync
    if sync is None:
        return el("p", "Waiting for the first sync…", class_="muted")
    text = (
        f"Last sync {ago(sync.finished_at, view.now)}, took {sync.duration:.1f}s; "
        f"{sync.prs} PRs found, GraphQL cost {sync.graphql_cost}"
    )
    if sync.rate_remaining is not None:
        text += f", {sync.rate_remaining} points left"
    errors = [el("li", e) for e in sync.errors]
    return el(
        "div", el("p", text, class_="muted"), el("ul", errors, class_="err") if errors else None
    )


def overview_page(view: Overview) -> Markup:
    body: list[Markup] = [el("h1", "Merge queue"), sync_line(view)]
    if view.standby:
        waits = [el("li", why) for _, why in sorted(view.standby.items())]
        intro = el("p", f"Instance {view.instance} is standing by:")
        body.append(el("div", intro, el("ul", waits)))
    if view.config_problems:
        problems = [el("li", p) for p in view.config_problems]
        body.append(
            el(
                "div",
                el("p", "The config file has problems; the last good config is in force:"),
                el("ul", problems),
                class_="err",
            )
        )
    if view.sync is not None and not view.pools:
        body.append(el("p", "No open pull request matches a query.", class_="muted"))
    body += [pool_section(p, view.now) for p in view.pools]
    return page("tide: merge queue", body, refresh=refresh_seconds(view.sync_period))


def history_page(history: History, sync_period: float) -> Markup:
    body: list[Markup] = [el("h1", "History")]
    if not history.pools():
        body.append(el("p", "Nothing done yet.", class_="muted"))
    for key in history.pools():
        repo_part, _, branch = key.partition(":")
        org, _, repo = repo_part.partition("/")
        rows = history_rows(history.records(key)[:200], org, repo)
        body.append(
            el(
                "section",
                el("h2", el("span", repo_part, class_="repo"), " ", el("code", branch)),
                table(("time (UTC)", "action", "PRs", "why"), rows, "history"),
                class_="pool",
            )
        )
    return page("tide: history", body, refresh=refresh_seconds(sync_period))


def error_page(message: str) -> Markup:
    return page("tide: error", [el("h1", "Something went wrong"), el("p", message, class_="err")])
