"""/docs and /redoc are our own pages on vendored, pinned files (no CDN), under a CSP without 'unsafe-inline'."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "frontend" / "static" / "vendor"
PINNED = {"swagger-ui-dist": "swagger-ui", "redoc": "redoc"}


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
def test_the_docs_pages_load_only_our_own_files_under_a_strict_csp(client, path):
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "<script>" not in r.text and "style=" not in r.text and "<style" not in r.text  # nothing inline
    sources = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert sources and all(s.startswith("/static/") for s in sources), sources
    for source in sources:
        assert client.get(source).status_code == 200, source


def test_the_redoc_policy_allows_only_its_fixed_styles_and_its_search_worker(client):
    csp = dict(d.strip().split(" ", 1) for d in client.get("/redoc").headers["content-security-policy"].split(";"))
    assert csp["style-src"].split() == ["'self'", "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
                                        "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='"]
    assert csp["worker-src"] == "'self' blob:" and csp["script-src"] == "'self'"
    page_csp = client.get("/docs").headers["content-security-policy"]
    assert "style-src 'self';" in page_csp and "worker-src" not in page_csp and "sha256" not in page_csp


@pytest.mark.parametrize("package", sorted(PINNED))
def test_the_vendored_files_are_the_pinned_packages(package):
    """package.json pins the version; the vendored copy records the package.json it came from; and where
    node_modules holds the package (after `npm ci`), the files are its own (ReDoc's remote logo aside)."""
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"][package]
    vendored = VENDOR / PINNED[package]
    assert json.loads((vendored / "package.json").read_text())["version"] == pinned
    assert f"{package}` **{pinned}**" in (ROOT / "frontend" / "README.md").read_text()
    installed = ROOT / "node_modules" / package
    if not (installed / "package.json").exists():
        return
    assert json.loads((installed / "package.json").read_text())["version"] == pinned
    for file in vendored.iterdir():
        if file.name == "package.json":
            continue
        origin = next(installed.rglob(file.name))
        expected = origin.read_bytes()
        if file.name == "redoc.standalone.js":
            expected = expected.replace(b'src:"https://cdn.redoc.ly/redoc/logo-mini.svg"', b'src:""')
        assert file.read_bytes() == expected, file


def test_every_operation_has_one_tag(client):
    """Swagger UI lists an operation under each of its tags: two tags would show it twice."""
    spec = client.get("/openapi.json").json()
    tagged = {(method, path): op.get("tags", []) for path, item in spec["paths"].items() for method, op in item.items()}
    assert {key: tags for key, tags in tagged.items() if len(tags) != 1} == {}
