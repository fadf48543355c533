"""Smoke test of `make bench`: the quick run starts its own stack, measures every section and writes the JSON.

Figures only: nothing here looks at how fast or how big a number is, only that each figure is a positive number.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.run import SECTIONS
from devtools.procs import REPO_ROOT

# differences of two measurements (peak minus idle) may legitimately be zero
_DELTA_FIGURES = ("above idle",)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@pytest.mark.slow
@pytest.mark.chain
@pytest.mark.ipfs
@pytest.mark.timeout(600)
def test_quick_bench_writes_every_section(tmp_path: Path) -> None:
    output = tmp_path / "bench-results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--output", str(output)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=540, check=False,
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    results = json.loads(output.read_text())

    assert results["meta"]["quick"] is True
    assert results["meta"]["interrupted"] is False
    assert set(results["sections"]) == set(SECTIONS)
    for key, section in results["sections"].items():
        assert "error" not in section, f"{key}: {section.get('error')}"
        assert section["figures"], f"{key} has no figures"
        for figure in section["figures"]:
            label = f"{key} / {figure['name']}"
            for field in ("ours", "bare", "ratio"):
                value = figure[field]
                assert _is_number(value), f"{label}: {field} = {value!r}"
                if not any(marker in figure["name"] for marker in _DELTA_FIGURES):
                    assert value > 0, f"{label}: {field} = {value!r}"
        assert section["details"], f"{key} has no details"
    _check_payments(results["sections"]["payments"])
    _check_gallery(results["sections"]["gallery"])
    _check_upload(results["sections"]["upload"], results["sections"]["ipfs_serve"])
    _check_payouts(results["sections"]["payouts"])
    # the table is printed too
    for _module, title, _bare in SECTIONS.values():
        assert title in proc.stdout


def _positive(value) -> bool:
    return _is_number(value) and value > 0


def _check_payments(section: dict) -> None:
    """The payments section: throughput and latency figures, and the details they come from, are positive."""
    names = [f["name"] for f in section["figures"]]
    assert any("delivered/s" in name for name in names), names
    assert any("p50" in name for name in names) and any("p95" in name for name in names), names
    for figure in section["figures"]:
        for field in ("ours", "bare", "ratio"):
            assert _positive(figure[field]), f"payments / {figure['name']}: {field} = {figure[field]!r}"
    details = section["details"]
    service = details["service"]
    assert service["n"] == details["n"] and _positive(service["per_s"]) and _positive(service["seconds"])
    assert all(_positive(run["per_s"]) for run in details["raw_transfers"])
    assert _positive(service["worker"]["rpc_calls_per_delivery"])
    latency = details["latency"]
    for key in ("webhook_to_owned_ms", "click_to_owned_ms", "raw_round_trip_ms", "raw_mint_round_trip_ms"):
        samples = latency[key]["samples"]
        assert len(samples) == details["latency_samples"], key
        assert all(_positive(v) for v in samples), f"{key}: {samples}"
        assert _positive(latency[key]["p50"]) and _positive(latency[key]["p95"]), key


def _check_gallery(section: dict) -> None:
    """Both databases, every case measured under load next to /api/health, a p99 with a goal for each case."""
    details = section["details"]
    assert details["concurrency"] == 50
    for database in ("sqlite", "postgres"):
        run = details[database]
        cases = {name: r for name, r in run.items() if isinstance(r, dict) and "p99_ms" in r
                 and name not in ("bare",)}
        assert len(cases) >= 5, sorted(cases)
        for name, r in cases.items():
            assert r["requests"] > 0 and _positive(r["p50_ms"]) and r["p99_ms"] >= r["p50_ms"], (database, name)
        assert len(run["bare_runs"]) == 2 and run["bare"]["requests"] > 0
        p99 = [f for f in section["figures"] if f["name"].endswith(" p99") and database in f["note"]]
        assert len(p99) == len(cases) and all(f["goal"] == "ratio <= 3" for f in p99), p99


def _check_upload(upload: dict, serve: dict) -> None:
    """Two upload sizes, each through the API and straight to the node; the served video read to its end."""
    sizes = upload["details"]["sizes"]
    assert len(sizes) == 2
    for label, run in sizes.items():
        assert run["api_s"] and run["direct_add_s"], label
        assert all(_positive(v) for v in run["api_s"] + run["direct_add_s"]), label
    assert sum(1 for f in upload["figures"] if f["goal"] == "ratio <= 1.2") == 2
    details = serve["details"]
    assert details["bytes"] > 0 and details["app_s"] and details["direct_cat_s"]


def _check_payouts(section: dict) -> None:
    """Every worker run (SQLite, SQLite with the charges recorded, PostgreSQL) left on the double exactly one
    transfer per creator credit; the raw rate was measured before and after."""
    details = section["details"]
    for run in ("sqlite", "sqlite_charge_known", "postgres"):
        r = details[run]
        assert r["entries"] == details["entries"] == r["double_transfers"], (run, r["entries"], r["double_transfers"])
        assert _positive(r["per_s"]) and _positive(r["profile"]["stripe_calls_per_transfer"]), run
    assert set(details["double_runs"]) == {"before", "after"}
    assert all(_positive(details["double"][way]["per_s"]) for way in ("raw_sequential", "sdk_sequential"))
