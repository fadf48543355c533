"""Browser tests: Playwright (sync API) driving Debian's Chromium against the live app and the Stripe double.

Never `playwright install`: the browser is /usr/bin/chromium from apt (the Makefile installs it). Screenshots go
to test-artifacts/screenshots/ for a reviewer to look at each page.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is required for the browser tests ({CHROMIUM}); `make setup` installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Browsing:
    """Opens browser contexts (one per person) and collects what the console says about CSP violations."""

    def __init__(self, browser) -> None:
        self.browser = browser
        self.contexts = []
        self.csp_violations: list[str] = []
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def person(self, *, viewport=DESKTOP, locale: str = "en-GB"):
        context = self.browser.new_context(viewport=viewport, locale=locale)
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        page = context.new_page()
        page.on("console", self._console)
        return page

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            self.csp_violations.append(message.text)

    @staticmethod
    def shot(page, name: str, *, full_page: bool = True) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.call_failed = report.failed
    return report


@pytest.fixture
def browsing(browser, request):
    b = Browsing(browser)
    yield b
    if getattr(request.node, "call_failed", False):  # what each person saw when the test failed
        for i, context in enumerate(b.contexts):
            for j, page in enumerate(context.pages):
                with contextlib.suppress(Exception):  # a closed page has nothing to show
                    b.shot(page, f"FAILED-{request.node.name}-{i}-{j}")
    b.close()
    assert b.csp_violations == [], "the pages broke their own Content-Security-Policy"
