"""Helpers for page tests without a browser: read the CSRF token from a page, post forms like a browser does."""

from __future__ import annotations

import re
import time

from fastapi.testclient import TestClient

CSRF_RE = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


class WebUser:
    """One browser: its own cookie jar on a TestClient of the app."""

    def __init__(self, app_client: TestClient) -> None:
        self.client = TestClient(app_client.app, base_url=str(app_client.base_url), follow_redirects=False)

    def get(self, url: str, **kwargs):
        return self.client.get(url, **kwargs)

    def post_form(self, page_url: str, action: str, data: dict | None = None, files=None, headers=None):
        """Open the page (for its CSRF token and cookie), then post the form to `action`."""
        page = self.client.get(page_url)
        assert page.status_code == 200, page.text
        payload = {"csrf_token": csrf_from(page.text), **(data or {})}
        return self.client.post(action, data=payload, files=files, headers=headers or {})

    def sign_up(self, *, role: str = "creator", name: str = "Anna Schmit", password: str = "correct horse 1") -> str:
        email = f"{role}-{time.monotonic_ns()}@example.lu"
        r = self.post_form("/signup", "/signup", {"email": email, "password": password, "display_name": name,
                                                  "role": role})
        assert r.status_code == 303, r.text
        return email
