"""Security headers on every response (pages, JSON, errors, the last-resort 500), and cookies `Secure` over https."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.helpers import csrf_from

PAGE_HEADERS = {"x-content-type-options": "nosniff", "x-frame-options": "DENY", "referrer-policy": "same-origin"}


def _has_security_headers(r, *, page: bool) -> None:
    for name, value in PAGE_HEADERS.items():
        assert r.headers.get(name) == value, (r.request.url, name, r.headers)
    csp = r.headers["content-security-policy"]
    if page:
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    else:
        assert csp == "default-src 'none'; frame-ancestors 'none'"


def test_json_errors_carry_the_security_headers(client):
    cases = [
        client.get("/api/works/999999"),  # 404 from a service
        client.get("/api/nope"),  # 404 from routing
        client.delete("/api/works/1"),  # 405
        client.get("/api/works", params={"page": "x"}),  # 422
        client.get("/api/me"),  # 401
        client.get("/api/me", headers={"Authorization": "Bearer not-a-token"}),  # 401, bad token
    ]
    for r in cases:
        assert r.status_code >= 400
        assert r.headers["content-type"].startswith("application/json")
        assert set(r.json()) == {"detail", "code"}, r.text
        assert r.headers["cache-control"] == "no-store"
        _has_security_headers(r, page=False)


def test_the_last_resort_500_has_the_error_shape_and_the_headers(client):
    app = client.app

    def broken():
        raise RuntimeError("a bug")

    app.add_api_route("/api/test-broken", broken)
    app.add_api_route("/test-broken-page", broken)
    app.middleware_stack = None  # rebuild the stack with the new routes
    raw = TestClient(app, raise_server_exceptions=False)
    r = raw.get("/api/test-broken")
    assert r.status_code == 500
    assert r.json() == {"detail": "Internal error", "code": "internal_error"}  # no traceback to the client
    _has_security_headers(r, page=False)
    page = raw.get("/test-broken-page")
    assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
    assert "a bug" not in page.text
    _has_security_headers(page, page=True)


def test_error_pages_carry_the_page_headers(client):
    for path in ("/works/999999", "/nope", "/works/abc", "/creators/0"):
        r = client.get(path)
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
        _has_security_headers(r, page=True)


def test_no_hsts_and_no_secure_cookies_over_plain_http(client):
    r = client.get("/signin")
    assert "strict-transport-security" not in r.headers
    assert "secure" not in r.headers["set-cookie"].lower()


def test_cookies_are_secure_and_hsts_is_sent_over_https(make_client):
    client = make_client(public_base_url="https://marketplace.example.lu")
    browser = TestClient(client.app, base_url="https://marketplace.example.lu", follow_redirects=False)
    page = browser.get("/signin")
    assert page.headers["strict-transport-security"].startswith("max-age=")
    assert "; secure" in page.headers["set-cookie"].lower()  # the CSRF cookie
    lang = browser.get("/lang/fr")
    assert "; secure" in lang.headers["set-cookie"].lower()
    email = "secure@example.lu"
    signup = browser.post("/signup", data={"csrf_token": csrf_from(page.text), "email": email,
                                           "password": "correct horse 1", "display_name": "Sécurité",
                                           "role": "buyer"})
    assert signup.status_code == 303, signup.text
    session_cookie = [c for c in signup.headers.get_list("set-cookie") if c.startswith("mp_session=")]
    assert session_cookie and "; secure" in session_cookie[0].lower() and "httponly" in session_cookie[0].lower()
    api = browser.get("/api/health")
    assert api.headers["strict-transport-security"].startswith("max-age=")
