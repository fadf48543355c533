"""`python -m devtools.stripe_double` runs the double on its own."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import stripe

from devtools.procs import REPO_ROOT, pick_free_port


def test_module_runs_a_double_that_the_sdk_can_use(tmp_path):
    port = pick_free_port()
    log = tmp_path / "double.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "devtools.stripe_double", "--port", str(port),
             "--webhook-secret", "whsec_cli", "--log-level", "warning"],
            cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/_double/health", trust_env=False).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        client = stripe.StripeClient("sk_test_cli", base_addresses={"api": f"http://127.0.0.1:{port}"})
        assert client.v1.events.list().data == []
    finally:
        proc.terminate()
        proc.wait(10)
