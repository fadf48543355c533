"""What ships: the wheel and the image hold the product only (no devtools, no test tools)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import setuptools

REPO_ROOT = Path(__file__).resolve().parents[1]
TEST_TOOLS = {"pytest", "pytest-timeout", "playwright", "hypothesis", "schemathesis", "import-linter", "httpx"}


def _names(lock: Path) -> set[str]:
    return {re.split(r"[=<>\[ ]", line)[0].lower().replace("_", "-")
            for line in lock.read_text().splitlines() if line and not line.startswith(("#", "-r"))}


def test_the_runtime_lock_has_no_test_tools_and_the_dev_lock_builds_on_it():
    runtime = _names(REPO_ROOT / "requirements.lock")
    assert not runtime & TEST_TOOLS, runtime & TEST_TOOLS
    dev = (REPO_ROOT / "requirements-dev.lock").read_text()
    assert "-r requirements.lock" in dev
    assert TEST_TOOLS - {"httpx"} <= _names(REPO_ROOT / "requirements-dev.lock")


def test_the_image_installs_the_runtime_lock_and_copies_no_dev_tools():
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert "requirements.lock" in dockerfile and "requirements-dev.lock" not in dockerfile
    copied = re.findall(r"^COPY\s+(\S+)", dockerfile, re.M)
    assert not {"devtools", "tests", "benchmarks", "."} & {c.rstrip("/") for c in copied}, copied


def test_the_package_holds_the_product_and_its_artifacts_only():
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    packages = setuptools.find_packages(str(REPO_ROOT), include=config["packages"]["find"]["include"])
    assert {p.split(".")[0] for p in packages} == {"marketplace"}, packages
    assert "marketplace.integrations.chain" in packages
    data = {f.name for pattern in config["package-data"]["marketplace"] for f in (REPO_ROOT / "marketplace").glob(pattern)}
    assert {"CreativeWorks.json", "messages.mo", "personal-use.md", "commercial-use.md"} <= data  # licence terms
