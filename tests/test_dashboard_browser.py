"""The dashboard in a real headless Chromium (Debian's, driven by Playwright): it shows a
pool from the simulator, and a PR's page names its missing label and its failing check."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from e2e import make_world, running_queue
from playwright.async_api import async_playwright, expect

from tide.clock import VirtualClock
from tide.server.app import StatusServer
from tide.sim import FakeCI, Job, fail_if_present

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}


def chromium() -> str:
    """The browser to drive. Missing, the test skips on a developer's machine (the README's
    test command must pass without Chromium) but fails in CI (`CI` set), where a silent
    skip would hide a broken dashboard. `TIDE_CHROMIUM` points at another binary."""
    path = os.environ.get("TIDE_CHROMIUM") or CHROMIUM
    if Path(path).exists():
        return path
    why = (
        f"{path} is missing: the browser test needs Debian's Chromium "
        "(apt-get install -y --no-install-recommends chromium; .ci/run installs it)"
    )
    if os.environ.get("CI"):
        pytest.fail(f"{why}; CI is set, so the browser test may not be skipped", pytrace=False)
    pytest.skip(why)


@pytest.mark.browser
async def test_dashboard_shows_the_pool_and_why_a_pr_is_not_merging(schema):
    executable = chromium()
    clock = VirtualClock()
    ci = FakeCI(
        [Job("ci/test", duration=600)], branches=["tide/*"], rules=[fail_if_present("BREAK")]
    )
    world = make_world(clock, ci=ci)
    ready = world.open_pr("org/repo", files={"a.txt": "1\n"}, labels=["lgtm"], title="Ready")
    stuck = world.open_pr("org/repo", files={"BREAK": "1\n"}, title="Unlabelled and failing")
    world.push_branch("org/repo", "main", {"base.txt": "moved\n"}, message="base moves")
    clock.advance(700)
    world.tick()
    async with (
        running_queue(world, clock) as q,
        StatusServer(q.daemon, port=0) as server,
        async_playwright() as playwright,
    ):
        await q.sync()
        await q.step()
        browser = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=ARGS
        )
        try:
            page = await browser.new_page(viewport=PHONE)
            await page.goto(f"{server.url}/ui")
            pool = page.locator("section.pool")
            await expect(pool.locator("h2")).to_contain_text("org/repo main")
            row = pool.locator("table.queue tbody tr")
            await expect(row).to_have_count(1)
            await expect(row).to_contain_text(f"#{ready.number}")
            await expect(row).to_contain_text("in the batch being tested")
            await expect(pool.locator(".run")).to_contain_text("waiting for ci/test")

            await page.fill("input[name=pr]", f"org/repo#{stuck.number}")
            await page.click("nav button")
            await expect(page).to_have_url(f"{server.url}/ui/pr/org/repo/{stuck.number}")
            await expect(page.locator(".headline")).to_contain_text("Not eligible")
            unmet = page.locator("table.criteria tr.unmet")
            await expect(unmet).to_have_count(2)
            await expect(unmet.filter(has_text="labels")).to_contain_text("Needs lgtm label.")
            await expect(unmet.filter(has_text="checks")).to_contain_text(
                "Job ci/test has not succeeded."
            )
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"]  # nothing spills sideways on a phone
        finally:
            await browser.close()
