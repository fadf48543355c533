"""Browser tests: Playwright (sync API) driving Debian's Chromium against the live app and the Stripe double.

Never `playwright install`: the browser is /usr/bin/chromium from apt (the Makefile installs it). Screenshots go
to test-artifacts/screenshots/ for a reviewer to look at each page. The session's browser and `Browsing` live in
tests/plugins/browser_fixtures.py (shared with the Stripe double's page tests).
"""

from __future__ import annotations

import contextlib

import pytest

from tests.plugins.browser_fixtures import DESKTOP, PHONE, SCREENSHOTS, Browsing

__all__ = ["DESKTOP", "PHONE", "SCREENSHOTS", "Browsing"]


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
