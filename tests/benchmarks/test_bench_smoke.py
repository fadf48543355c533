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
from marketplace.devstack.procs import REPO_ROOT

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
