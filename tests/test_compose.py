"""docker-compose.yml as `docker-compose config` (Debian's docker-compose, installed by `make setup`; no Docker
engine runs here) resolves it with the committed .env.example: the services the production stack needs, each
with a health check, a volume for every piece of state, Kubo's RPC on the internal network only, migrations once
before the API and the workers."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
SERVICES = {"api", "worker", "postgres", "kubo", "anvil", "migrate", "proxy"}


@pytest.fixture(scope="module")
def config() -> dict:
    binary = shutil.which("docker-compose")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("docker-compose is missing: `make setup` installs Debian's docker-compose")
        pytest.skip("docker-compose is not installed (make setup installs it)")
    result = subprocess.run(
        [binary, "--env-file", ".env.example", "-f", "docker-compose.yml", "--profile", "local-chain", "config"],
        check=False, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "ENV_FILE": ".env.example", "DOCKER_HOST": "unix:///nonexistent.sock"})
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_the_stack_has_every_service_each_with_a_health_check(config):
    services = config["services"]
    assert SERVICES <= set(services)
    for name in SERVICES - {"migrate"}:  # migrate runs once and exits
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no health check"
    assert services["kubo"]["image"].startswith("ipfs/kubo:v0.")  # pinned, not :latest
    assert services["anvil"]["profiles"] == ["local-chain"]


def test_migrations_run_once_before_the_api_and_the_workers(config):
    services = config["services"]
    assert services["migrate"]["command"] == ["marketplace", "migrate"]
    assert services["migrate"]["restart"] == "no"
    for name in ("api", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_kubo_rpc_stays_internal_and_only_its_gateway_is_published(config):
    kubo = config["services"]["kubo"]
    published = {int(p["published"]) if isinstance(p, dict) else int(str(p).split(":")[-2])
                 for p in kubo.get("ports", [])}
    targets = {int(p["target"]) if isinstance(p, dict) else int(str(p).split(":")[-1].split("/")[0])
               for p in kubo.get("ports", [])}
    assert 8080 in published and 5001 not in published and 5001 not in targets
    assert config["networks"]["internal"]["internal"] is True
    assert "internal" in kubo["networks"] and "edge" not in kubo["networks"]
    for name, service in config["services"].items():  # the one network that reaches 5001 has no way out
        if "swarm" in service.get("networks", {}):
            assert name == "kubo"
    assert config["services"]["api"]["environment"]["IPFS_API_URL"] == "/dns4/kubo/tcp/5001/http"
    init = (REPO_ROOT / "deploy" / "kubo" / "001-gateway.sh").read_text()
    assert "Gateway.NoFetch true" in init


def test_the_api_scales_behind_the_proxy(config):
    api = config["services"]["api"]
    assert not api.get("ports"), "a fixed host port would stop `--scale api=N`"
    assert config["services"]["proxy"]["depends_on"]["api"]["condition"] == "service_healthy"
    caddyfile = (REPO_ROOT / "deploy" / "Caddyfile").read_text()
    assert "dynamic a api 8000" in caddyfile and "respond @metrics 404" in caddyfile


def test_every_piece_of_state_has_a_volume(config):
    services = config["services"]

    def volumes(name: str) -> dict[str, str]:
        found = {}
        for v in services[name].get("volumes", []):
            if isinstance(v, dict):
                found[v["target"]] = v.get("source")
            else:
                source, target = str(v).split(":")[:2]
                found[target] = source
        return found

    assert volumes("postgres")["/var/lib/postgresql/data"] == "pgdata"
    assert volumes("kubo")["/data/ipfs"] == "ipfsdata"
    assert volumes("anvil")["/state"] == "anvildata"
    assert volumes("api")["/data"] == volumes("worker")["/data"] == "media"
    assert volumes("proxy")["/data"] == "caddydata"
    assert {"pgdata", "ipfsdata", "media", "anvildata", "caddydata", "caddyconfig"} <= set(config["volumes"])


def test_secrets_come_from_the_env_file_whose_example_is_committed(config):
    example = (REPO_ROOT / ".env.example").read_text()
    for name in ("POSTGRES_PASSWORD", "MINTER_PRIVATE_KEY", "WALLET_SECRET", "AUTH_SECRET", "STRIPE_API_KEY",
                 "STRIPE_WEBHOOK_SECRET", "METRICS_TOKEN", "IPFS_PINNING_SERVICE_TOKEN"):
        assert f"\n{name}=" in example
    compose = (REPO_ROOT / "docker-compose.yml").read_text()
    for secret in ("MINTER_PRIVATE_KEY=", "WALLET_SECRET:", "AUTH_SECRET:", "STRIPE_API_KEY:"):
        assert secret not in compose  # never written in the compose file itself
    assert ".env" in (REPO_ROOT / ".gitignore").read_text().split()
    api_env = config["services"]["api"]["environment"]
    assert api_env["ENV"] == "production" and api_env["MINTER_PRIVATE_KEY"] == "0x..."  # from .env.example
