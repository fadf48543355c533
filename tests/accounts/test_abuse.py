"""Sign-in, sign-up and checkout against guessing and floods: limits per account and per client address (429 with
Retry-After), failed sign-ins slowed the same for a known and an unknown e-mail, and Argon2 in its own bounded pool
(overflow refused at once with 503, the rest of the server answering meanwhile)."""

from __future__ import annotations

import asyncio
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from marketplace.accounts import security
from marketplace.accounts import service as accounts_service
from marketplace.core.ratelimit import RateLimiter
from tests.conftest import Api
from tests.web.helpers import WebUser

FAST_FAILURES = {"signin_failure_delay_s": 0.001, "signin_failure_delay_max_s": 0.004}
REDIS_URL = "redis://127.0.0.1:6379/0"


def _token(client, email: str, password: str):
    return client.post("/api/auth/token", data={"username": email, "password": password})


def _refused(r, *, status: int = 429, code: str = "rate_limited") -> int:
    """Asserts the response is the documented refusal; returns its Retry-After in seconds."""
    assert r.status_code == status, r.text
    assert r.json()["code"] == code and r.json()["detail"]
    retry_after = int(r.headers["retry-after"])
    assert retry_after >= 1
    return retry_after


def test_wrong_passwords_meet_the_per_email_limit_and_then_even_the_right_one_waits(make_client):
    client = make_client(rate_limit_signin="5/minute", **FAST_FAILURES)
    user = Api(client).register(role="buyer")  # its own sign-in counts: 1 of 5
    answers = [_token(client, user["email"], "wrong password") for _ in range(5)]
    assert [r.status_code for r in answers] == [401] * 4 + [429]
    assert _refused(answers[-1]) <= 60
    assert "sign-in attempts" in answers[-1].json()["detail"]
    _refused(_token(client, user["email"], user["password"]))  # the limit is on the e-mail, not on wrong guesses
    # the address has room left: another e-mail from the same client is answered as usual
    assert _token(client, "someone-else@example.lu", "whatever-pass").status_code == 401


def test_known_and_unknown_emails_get_the_same_answers_after_the_same_work(make_client, monkeypatch):
    settings = dict(rate_limit_signin="4/minute", signin_failure_delay_s=0.001, signin_failure_delay_max_s=0.1)
    with_account, without = make_client(**settings), make_client(**settings)  # one database, fresh counts each
    known = f"known-{uuid.uuid4().hex[:8]}@example.lu"
    r = with_account.post("/api/auth/register", json={"email": known, "password": "right password",
                                                      "display_name": "Known", "role": "buyer"})
    assert r.status_code == 201
    unknown = f"nobody-{uuid.uuid4().hex[:8]}@example.lu"

    verified: list[bool] = []
    real_verify = security.verify_password

    def counting_verify(password, password_hash):
        verified.append(password_hash is not None)
        return real_verify(password, password_hash)

    delays: list[float] = []

    async def recorded_sleep(seconds: float) -> None:
        delays.append(seconds)

    monkeypatch.setattr(security, "verify_password", counting_verify)
    monkeypatch.setattr(accounts_service, "sleep", recorded_sleep)

    def attempts(client, email: str) -> tuple[list, list, list]:
        verified.clear()
        delays.clear()
        answers = []
        for _ in range(5):
            r = _token(client, email, "wrong password")
            answers.append((r.status_code, r.json(), "retry-after" in r.headers, r.headers.get("www-authenticate")))
        return answers, list(delays), list(verified)

    known_answers, known_delays, known_verified = attempts(with_account, known)
    unknown_answers, unknown_delays, unknown_verified = attempts(without, unknown)
    assert known_answers[:4] == unknown_answers[:4]  # word for word, headers included
    strip_seconds = lambda a: (a[0], a[1]["code"], re.sub(r"\d+", "N", a[1]["detail"]), a[2], a[3])
    assert strip_seconds(known_answers[4]) == strip_seconds(unknown_answers[4])  # the same but for the wait
    assert known_answers[0] == (401, {"detail": "Incorrect e-mail or password", "code": "unauthorized"}, False,
                                "Bearer")
    assert [a[0] for a in known_answers] == [401] * 4 + [429] and known_answers[-1][1]["code"] == "rate_limited"
    # one Argon2 verification per answered attempt (the unknown e-mail's against the dummy hash), none once limited
    assert (known_verified, unknown_verified) == ([True] * 4, [False] * 4)
    # failed attempts are slowed, growing, the same for both
    assert known_delays == unknown_delays and len(known_delays) == 4
    assert known_delays == sorted(known_delays) and known_delays[-1] > known_delays[0] > 0


def test_the_per_address_limit_counts_every_email_from_that_address(make_client):
    client = make_client(rate_limit_signin_address="3/minute", **FAST_FAILURES)
    answers = [_token(client, f"guess-{i}@example.lu", "wrong password") for i in range(4)]
    assert [r.status_code for r in answers] == [401, 401, 401, 429]
    _refused(answers[-1])


def test_failed_sign_ins_are_slowed_per_email_and_per_address_and_a_success_forgives_the_email():
    limiter = RateLimiter(storage_url="memory://", key_prefix="test", rules={},
                          failure_delay_s=0.25, failure_delay_max_s=2.0, failure_window_s=60)

    async def scenario() -> list[float]:
        delays = [await limiter.failed_signin(email="a@example.lu", address="198.51.100.1") for _ in range(5)]
        await limiter.signed_in(email="a@example.lu")
        # the address still remembers its 5 failures: a new e-mail from it is slowed as much as the 6th failure
        delays.append(await limiter.failed_signin(email="b@example.lu", address="198.51.100.1"))
        # the forgiven e-mail from another address starts over
        delays.append(await limiter.failed_signin(email="a@example.lu", address="203.0.113.7"))
        return delays

    assert asyncio.run(scenario()) == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0, 0.25]


def test_registration_is_limited_per_address_and_per_email(make_client):
    client = make_client(rate_limit_register_address="3/hour", rate_limit_register="2/hour")

    def register(email: str):
        return client.post("/api/auth/register", json={"email": email, "password": "long-enough-1",
                                                       "display_name": "R", "role": "buyer"})

    assert register("twice@example.lu").status_code == 201
    assert register("TWICE@example.lu").status_code == 409
    refused = register("twice@example.lu")  # the e-mail's 2 are used; a refused attempt counts for none
    assert 60 < _refused(refused) <= 3600
    assert "sign-ups" in refused.json()["detail"]
    assert register("third@example.lu").status_code == 201  # the address's third
    _refused(register("fourth@example.lu"))


def test_pages_show_the_form_again_with_429_and_retry_after(make_client):
    client = make_client(rate_limit_signin="2/minute", rate_limit_register_address="1/hour", **FAST_FAILURES)
    browser = WebUser(client)
    email = browser.sign_up(role="buyer")  # the address's one sign-up
    browser.client.post("/signout", data={"csrf_token": _csrf(browser)})

    answers = [browser.post_form("/signin", "/signin", {"email": email, "password": "wrong password"})
               for _ in range(3)]
    assert [r.status_code for r in answers] == [400, 400, 429]
    limited = answers[-1]
    assert int(limited.headers["retry-after"]) >= 1
    assert "Too many attempts" in limited.text and 'action="/signin"' in limited.text
    assert "mp_session" not in limited.headers.get("set-cookie", "")

    signup = browser.post_form("/signup", "/signup", {"email": "late@example.lu", "password": "correct horse 1",
                                                      "display_name": "Late", "role": "buyer"})
    assert signup.status_code == 429
    assert int(signup.headers["retry-after"]) > 60
    assert "Too many attempts" in signup.text and 'action="/signup"' in signup.text


def _csrf(browser: WebUser) -> str:
    from tests.web.helpers import csrf_from

    return csrf_from(browser.get("/").text)


def test_checkouts_are_limited_per_account_and_per_address(make_client):
    client = make_client(rate_limit_checkout="3/minute", rate_limit_checkout_address="5/minute")
    api = Api(client)
    first, second = api.register(role="buyer"), api.register(role="buyer")
    missing = 10**6  # the limit comes first: even a work that does not exist counts

    def checkout(user):
        return client.post(f"/api/works/{missing}/checkout", headers=user["headers"],
                           json={"accept_immediate_supply": True, "accept_license": True})

    assert [checkout(first).status_code for _ in range(3)] == [404] * 3
    limited = checkout(first)
    _refused(limited)
    assert "checkouts" in limited.json()["detail"]
    assert [checkout(second).status_code for _ in range(2)] == [404, 404]  # its own account limit, same address
    _refused(checkout(second))  # ... until the address's 5 are used
    assert client.post(f"/api/works/{missing}/checkout").status_code == 401  # anonymous: nothing to count


def test_the_buy_page_shows_the_work_again_with_429(make_client):
    client = make_client(rate_limit_checkout="2/minute")
    browser = WebUser(client)
    browser.sign_up(role="creator")
    api = Api(browser.client)
    token = browser.client.cookies.get("mp_session")
    work = api.upload({"headers": {"Authorization": f"Bearer {token}"}}).json()
    answers = [browser.post_form(f"/works/{work['id']}", f"/works/{work['id']}/buy", {"accept_license": "yes",
                                                                                   "accept_immediate_supply": "yes"})
               for _ in range(3)]
    assert [r.status_code for r in answers] == [409, 409, 429]  # one's own work is refused, then the limit
    assert int(answers[-1].headers["retry-after"]) >= 1
    assert "Too many checkouts" in answers[-1].text and work["title"] in answers[-1].text


def test_password_hashing_overflow_is_refused_at_once_and_the_server_keeps_answering(make_client, monkeypatch):
    client = make_client(password_hash_workers=1, password_hash_queue=1, rate_limit_signin_address="1000/minute",
                         **FAST_FAILURES)
    release = threading.Event()
    entered = threading.Semaphore(0)
    real_verify = security.verify_password

    def held_verify(password, password_hash):  # an Argon2 that takes as long as the test wants
        entered.release()
        release.wait(30)
        return real_verify(password, password_hash)

    monkeypatch.setattr(security, "verify_password", held_verify)
    pool = ThreadPoolExecutor(8)
    try:
        held = [pool.submit(_token, client, f"held-{i}@example.lu", "wrong password") for i in range(2)]
        assert entered.acquire(timeout=20)  # one verification runs, the other waits in the queue
        hashing = client.app.state.password_hashing
        deadline = time.monotonic() + 20
        while hashing.free_slots > 0 and time.monotonic() < deadline:  # both slots taken
            time.sleep(0.01)
        overflow = [pool.submit(_token, client, f"more-{i}@example.lu", "wrong password") for i in range(4)]
        # answered while the pool is still held: refused at once, not queued behind the flood
        for future in overflow:
            r = future.result(timeout=20)
            _refused(r, status=503, code="server_busy")
        assert client.get("/api/health").json() == {"status": "ok"}
        assert client.get("/").status_code == 200
        assert not any(f.done() for f in held)
    finally:
        release.set()
    assert [f.result(timeout=30).status_code for f in held] == [401, 401]
    pool.shutdown()


@pytest.fixture
def redis_prefix():
    prefix = f"test-{uuid.uuid4().hex}"
    yield prefix
    r = redis.Redis.from_url(REDIS_URL)
    keys = list(r.scan_iter(f"{prefix}*"))
    if keys:
        r.delete(*keys)
    r.close()


def test_processes_sharing_a_redis_store_share_the_limits(make_client, redis_prefix):
    settings = dict(rate_limit_storage_url=REDIS_URL, rate_limit_key_prefix=redis_prefix, rate_limit_signin="3/minute",
                    **FAST_FAILURES)
    one, other = make_client(**settings), make_client(**settings)  # two apps: two "processes", one store
    email = "shared@example.lu"
    assert [_token(one, email, "wrong password").status_code for _ in range(2)] == [401, 401]
    assert _token(other, email, "wrong password").status_code == 401
    _refused(_token(other, email, "wrong password"))
    _refused(_token(one, email, "wrong password"))
    keys = redis.Redis.from_url(REDIS_URL).keys(f"{redis_prefix}*")
    assert keys and not any(b"shared" in key for key in keys)  # the e-mail is not stored in clear
