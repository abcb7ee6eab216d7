"""The browser test's gate: without Chromium it skips on a developer's machine, with a
reason, and fails in CI, where it must never be skipped silently."""

from __future__ import annotations

import pytest
from test_dashboard_browser import chromium


def test_without_chromium_the_browser_test_skips_and_says_why(monkeypatch, tmp_path):
    monkeypatch.setenv("TIDE_CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"no-chromium is missing.*apt-get install"):
        chromium()


def test_without_chromium_in_ci_the_browser_test_fails(monkeypatch, tmp_path):
    monkeypatch.setenv("TIDE_CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set"):
        chromium()


def test_an_existing_browser_is_used(monkeypatch, tmp_path):
    browser = tmp_path / "chromium"
    browser.write_text("")
    monkeypatch.setenv("TIDE_CHROMIUM", str(browser))
    assert chromium() == str(browser)
