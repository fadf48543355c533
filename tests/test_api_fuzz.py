"""Fuzzing from the OpenAPI schema (schemathesis): every operation, signed in as each role, a bounded number of
examples. Zero 5xx, and every response as documented (status code, content type, headers, body schema).

The app runs with every real part (anvil, the IPFS node, the database, the Stripe double), so a generated
checkout really reaches Stripe's wire format. Examples are derandomized: the same inputs every run, so a failure
here is reproducible, never a flake; raise FUZZ_EXAMPLES locally to explore further.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.calls.conftest import CallsApi
from tests.conftest import Api
from tests.plugins.live_fixtures import WEBHOOK_SECRET

pytestmark = [pytest.mark.ipfs, pytest.mark.chain, pytest.mark.slow,
              pytest.mark.timeout(900)]  # every operation x every role: it grows with the API

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
# Not schema violations: "schema-valid data must be accepted" cannot hold where the service checks more than JSON
# Schema says (e-mail deliverability rules, the text rules of marketplace/text.py, a price range against another).
EXCLUDED = [schemathesis.checks.positive_data_acceptance]
SIGNS_OUT = ("/api/auth/signout", "/api/me/signout-everywhere", "/api/me/password")


@pytest.fixture
def fuzz_client(make_client, stripe_double):
    return make_client(stripe_api_base=stripe_double.api_base, stripe_api_key=stripe_double.api_key,
                       stripe_webhook_secret=WEBHOOK_SECRET, stripe_max_network_retries=0,
                       # wrong passwords are most of what the fuzzer sends: their growing delay is tested elsewhere
                       signin_failure_delay_s=0.001, signin_failure_delay_max_s=0.004,
                       rate_limit_signin="10000/minute", rate_limit_register="10000/minute",
                       rate_limit_checkout="10000/minute", rate_limit_mail="10000/minute",
                       rate_limit_report="10000/minute", rate_limit_report_address="10000/minute")


@pytest.fixture
def fuzz_roles(fuzz_client) -> dict[str, dict]:
    """Headers per role; the creator owns a draft and a minted work, so ids 1 and 2 exist; the buyer's call 1 has
    the creator's proposal 1 (a team of one, submitted); organisations `0` and `a` exist, the creator an admin of
    both (so generated slugs reach the members' rules)."""
    api = Api(fuzz_client)
    roles = {"anonymous": {}}
    for role in ("buyer", "creator"):
        roles[role] = api.register(role=role)["headers"]
    roles["admin"] = api.register_admin()["headers"]
    creator = {"headers": roles["creator"]}
    api.upload(creator)
    minted = api.upload(creator, title="Minted for the fuzzer").json()
    assert fuzz_client.post(f"/api/works/{minted['id']}/mint", headers=roles["creator"]).status_code == 202
    api.wait_for_status(minted["id"], "minted")
    call = CallsApi(api).post_call({"headers": roles["buyer"]})
    creator_id = fuzz_client.get("/api/me", headers=roles["creator"]).json()["id"]
    CallsApi(api).submitted({"headers": roles["creator"], "id": creator_id}, call["id"],
                            [({"id": creator_id}, 10_000, "composer")])
    for slug in ("0", "a"):
        r = fuzz_client.post("/api/organisations", headers=roles["admin"], json={
            "name": f"Fuzz {slug}", "kind": "studio", "slug": slug})
        assert r.status_code == 201, r.text
        r = fuzz_client.post(f"/api/organisations/{slug}/members", headers=roles["admin"],
                             json={"account_id": creator_id, "role": "admin"})
        assert r.status_code == 201, r.text
    return roles


@pytest.fixture
def api_schema(fuzz_client):
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_client.app)


def test_every_operation_answers_as_documented_for_every_role(api_schema, fuzz_roles):
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    # signing out (everywhere) revokes the roles' tokens: those operations go last, the others run signed in
    operations.sort(key=lambda op: op.path in SIGNS_OUT)
    assert len(operations) >= 15
    for operation in operations:
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case):
            for headers in fuzz_roles.values():
                case.call_and_validate(headers=headers, excluded_checks=EXCLUDED)

        try:
            run()
        except Exception as exc:  # noqa: BLE001 - every operation is tried; all failures are reported together
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
