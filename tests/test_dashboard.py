"""The dashboard's HTML: untrusted text (titles, labels, logins, issue titles, CI links) is
rendered as text, the page runs no script, reads well on a phone and refreshes itself."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from e2e import TOKEN, make_world, running_queue

from tide.clock import VirtualClock
from tide.server.app import StatusServer
from tide.sim import World
from tide.views.html import el, safe_url

HOSTILE_TITLE = (
    '<script>alert("pwned")</script>"\'><img src=x onerror=alert(1)> & ' + "very long " * 500
)
HOSTILE_LABEL = "<b onmouseover=alert(2)>label</b>"
HOSTILE_LOGIN = 'mallory"><script>alert(3)</script>'
BLOCKER_TITLE = "Freeze </section><script>alert(4)</script>"


@asynccontextmanager
async def served(world: World, clock: VirtualClock) -> AsyncIterator[tuple]:
    async with (
        running_queue(world, clock) as q,
        StatusServer(q.daemon, port=0) as server,
        aiohttp.ClientSession(server.url) as http,
    ):
        yield q, server, http


async def fetch(http: aiohttp.ClientSession, path: str) -> tuple[aiohttp.ClientResponse, str]:
    async with http.get(path) as resp:
        return resp, await resp.text()


def hostile_world(clock: VirtualClock) -> tuple[World, int]:
    world = make_world(clock)
    pr = world.open_pr(
        "org/repo",
        files={"a.txt": "1\n"},
        title=HOSTILE_TITLE,
        labels=["lgtm", HOSTILE_LABEL],
        author=HOSTILE_LOGIN,
    )
    world.set_status(
        "org/repo", pr.head_sha, "evil/ci", "pending", target_url="javascript:alert(5)"
    )
    clock.advance(700)
    world.tick()
    return world, pr.number


def assert_inert(page: str) -> None:
    """Nothing the page shows can run: no script tag, no injected attribute, no js: link."""
    assert "<script" not in page.lower()
    assert "<img" not in page and "<b " not in page
    assert 'href="javascript:' not in page
    assert "onerror=alert(1)>" not in page


async def test_a_hostile_title_label_and_login_render_as_text_on_every_page(schema):
    clock = VirtualClock()
    world, number = hostile_world(clock)
    async with served(world, clock) as (q, _server, http):
        await q.sync()
        pages = {p: (await fetch(http, p))[1] for p in ("/ui", f"/ui/pr/org/repo/{number}")}

    for page in pages.values():
        assert_inert(page)
        assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in page
    pr_page = pages[f"/ui/pr/org/repo/{number}"]
    assert "&lt;b onmouseover=alert(2)&gt;label&lt;/b&gt;" in pr_page
    assert "mallory&quot;&gt;&lt;script&gt;alert(3)&lt;/script&gt;" in pr_page
    assert "very long " * 400 in pr_page  # the PR page shows the whole title
    cells = re.findall(r'<span title="[^"]*" class="title">([^<]*)</span>', pages["/ui"])
    assert cells and all(len(c) < 200 for c in cells)  # the queue table shortens it


async def test_a_ci_link_that_is_not_http_is_never_a_link_target(schema):
    clock = VirtualClock()
    world, number = hostile_world(clock)
    async with served(world, clock) as (q, _server, http):
        await q.sync()
        _, page = await fetch(http, f"/ui/pr/org/repo/{number}")

    assert 'href="#">evil/ci</a>' in page
    assert safe_url("javascript:alert(1)") == "#"
    assert safe_url(" //evil.example/x") == "#"
    assert safe_url("https://ci.example/run/1") == "https://ci.example/run/1"


async def test_a_blocked_pool_shows_its_blocker_issue(schema):
    clock = VirtualClock()
    world, _ = hostile_world(clock)
    world.open_issue("org/repo", BLOCKER_TITLE, labels=["tide/merge-blocker"])
    async with served(world, clock) as (q, _server, http):
        await q.sync()
        _, page = await fetch(http, "/ui")

    assert_inert(page)
    assert "Blocked by" in page
    assert "Freeze &lt;/section&gt;&lt;script&gt;alert(4)&lt;/script&gt;" in page
    assert 'class="badge blocked">BLOCKED<' in page


async def test_pages_forbid_scripts_refresh_themselves_and_fit_a_phone(schema):
    clock = VirtualClock()
    world, _ = hostile_world(clock)
    async with served(world, clock) as (q, _server, http):
        await q.sync()
        resp, page = await fetch(http, "/ui")
        css, _ = await fetch(http, "/ui/static/tide.css")

    policy = resp.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert resp.headers["Content-Type"].startswith("text/html")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert '<meta http-equiv="refresh" content="60">' in page  # the 1m sync period
    assert css.status == 200 and css.headers["Content-Type"].startswith("text/css")


async def test_no_page_or_answer_ever_shows_the_token(schema):
    clock = VirtualClock()
    world, number = hostile_world(clock)
    async with served(world, clock) as (q, _server, http):
        await q.sync()
        await q.step()
        paths = [
            "/", "/history", "/metrics", "/readyz", "/api/v1/pools",
            f"/api/v1/prs/org/repo/{number}", "/ui", "/ui/history", f"/ui/pr/org/repo/{number}",
        ]  # fmt: skip
        bodies = [(await fetch(http, p))[1] for p in paths]

    assert all(TOKEN not in body for body in bodies)


async def test_the_lookup_box_leads_to_the_pr_page(schema):
    clock = VirtualClock()
    world, number = hostile_world(clock)
    async with served(world, clock) as (q, _server, http):
        await q.sync()
        async with http.get("/ui/pr", params={"pr": f"org/repo#{number}"}) as resp:
            landed = str(resp.url.path)
        async with http.get("/ui/pr", params={"pr": "<nonsense>"}) as resp:
            back = str(resp.url.path)

    assert landed == f"/ui/pr/org/repo/{number}"
    assert back == "/ui"


def test_markup_built_from_text_is_escaped_and_attributes_are_quoted():
    cell = el("td", '<a href="x">', title='"><script>', class_="title")

    assert cell == (
        '<td title="&quot;&gt;&lt;script&gt;" class="title">&lt;a href=&quot;x&quot;&gt;</td>'
    )
