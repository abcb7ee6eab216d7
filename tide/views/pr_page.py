"""The dashboard's page for one PR: why isn't it merging? Every criterion, its place in
the queue, the batch it is in, what it waits for, and what tide did with it."""

from __future__ import annotations

from datetime import datetime

from tide.views.explain import Explanation
from tide.views.html import Markup, el, page
from tide.views.pages import (
    badge,
    contexts_list,
    history_rows,
    refresh_seconds,
    run_block,
    table,
)
from tide.views.queue import format_duration


def _facts(ex: Explanation) -> Markup:
    rows = [
        ("title", ex.title),
        ("author", ex.author),
        ("branch", ex.base_ref),
        ("head", ex.head_sha[:12]),
        ("labels", ", ".join(ex.labels)),
    ]
    if ex.status is not None:
        rows.append(("tide status", f"{ex.status.state}: {ex.status.description}"))
    if ex.eligible_since is not None and ex.checked_at is not None:
        waited = format_duration((ex.checked_at - ex.eligible_since).total_seconds())
        rows.append(("eligible for", waited))
    items = [el("div", el("dt", k), el("dd", v)) for k, v in rows if v]
    if ex.failed_run_url.startswith(("https://", "http://")):
        link = el("a", "the CI run that failed", href=ex.failed_run_url)
        items.append(el("div", el("dt", "broke the build"), el("dd", link)))
    if ex.url:
        items.append(el("div", el("dt", "on GitHub"), el("dd", el("a", ex.url, href=ex.url))))
    return el("dl", items, class_="facts")


def _criteria(ex: Explanation) -> Markup:
    rows = []
    for c in ex.criteria:
        mark = el("span", "✓" if c.met else "✗", class_="ok" if c.met else "no", aria_hidden="true")
        state = "met" if c.met else "not met"
        rows.append(
            el(
                "tr",
                el("td", mark, " ", el("span", state, class_="state")),
                el("th", c.name, scope="row"),
                el("td", c.detail, class_="why"),
                class_="met" if c.met else "unmet",
            )
        )
    head = el("thead", el("tr", el("th", "state"), el("th", "criterion"), el("th", "why")))
    return el("div", el("table", head, el("tbody", rows), class_="criteria"), class_="scroll")


def _queue(ex: Explanation, now: datetime) -> list[Markup]:
    parts: list[Markup] = [el("h2", "Queue")]
    if ex.position is not None:
        place = ex.place.value if ex.place else ""
        kind = ex.place.name if ex.place else ""
        parts.append(el("p", f"#{ex.position} of {ex.queue_length} ", badge(place, kind)))
    elif ex.place is not None:
        parts.append(el("p", badge(ex.place.value, ex.place.name)))
    if ex.pool_action:
        parts.append(
            el(
                "p",
                "The pool's last action: ",
                badge(ex.pool_action),
                " ",
                el("span", ex.pool_reason, class_="why"),
            )
        )
    if ex.batch is not None:
        parts.append(el("h3", "Batch"))
        parts.append(run_block(ex.batch, ex.org, ex.repo, now))
    return parts


def pr_page(ex: Explanation, sync_period: float, now: datetime) -> Markup:
    title = f"{ex.org}/{ex.repo}#{ex.number}"
    body: list[Markup | None] = [
        el("h1", el("span", title, class_="repo"), " ", el("span", ex.title, class_="title")),
        el("p", ex.headline, class_="headline " + ("ok" if ex.eligible else "no")),
    ]
    if ex.criteria:
        body += [_facts(ex), el("h2", "Criteria"), _criteria(ex)]
    body += _queue(ex, now)
    if ex.awaited:
        body += [el("h2", "Waiting for"), contexts_list(ex.awaited, now)]
    if ex.contexts:
        body += [el("h2", "Checks on the head commit"), contexts_list(ex.contexts, now)]
    if ex.history:
        rows = history_rows(ex.history, ex.org, ex.repo)
        body += [
            el("h2", "History"),
            table(("time (UTC)", "action", "PRs", "why"), rows, "history"),
        ]
    return page(f"tide: {title}", body, refresh=refresh_seconds(sync_period))
