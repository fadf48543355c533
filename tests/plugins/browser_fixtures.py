"""The browser every browser test shares: one Chromium (Debian's, never `playwright install`) per session, driven by
Playwright's sync API, and `Browsing` (a person per browser context, console errors and CSP violations collected).

A session fixture here rather than in tests/web: a test elsewhere (the Stripe double's onboarding page) that started
its own Playwright next to it failed with "Sync API inside the asyncio loop" when tests/web ran first."""

from __future__ import annotations

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
def chromium():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is required for the browser tests ({CHROMIUM}); `make setup` installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def browser(chromium):
    """The session's Chromium (tests/web's name for it; the Stripe double's tests call an HTTP client `browser`)."""
    return chromium


# Every page reports what its Content-Security-Policy blocked as a console error (Chromium logs most, not all)
REPORT_CSP_VIOLATIONS = """document.addEventListener("securitypolicyviolation", (e) => console.error(
    `CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`));"""


class Browsing:
    """Opens browser contexts (one per person) and collects what the console says: CSP violations (asserted
    empty after every test), and every console error and uncaught exception with the page it came from (the
    tests that visit pages to check them assert those empty: `console_errors`)."""

    def __init__(self, browser) -> None:
        self.browser = browser
        self.contexts = []
        self.csp_violations: list[str] = []
        self.console_errors: list[str] = []
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def person(self, *, viewport=DESKTOP, locale: str = "en-GB", **context_options):
        context = self.browser.new_context(viewport=viewport, locale=locale, **context_options)
        context.set_default_timeout(15_000)
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        self.contexts.append(context)
        page = context.new_page()
        self.watch(page)
        return page

    def watch(self, page) -> None:
        page.on("console", lambda message: self._console(page, message))
        page.on("pageerror", lambda error: self.console_errors.append(f"{page.url}: uncaught {error}"))

    def _console(self, page, message) -> None:
        text = message.text
        if "Content Security Policy" in text or "Refused to" in text or text.startswith("CSP violation"):
            self.csp_violations.append(text)
        if message.type == "error":
            source = message.location.get("url") or ""
            self.console_errors.append(f"{page.url}: {text}" + (f" [{source}]" if source != page.url else ""))

    @staticmethod
    def shot(page, name: str, *, full_page: bool = True) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    def close(self) -> None:
        for context in self.contexts:
            context.close()
