"""`python -m benchmarks.serve` runs end to end (tiny: one client, two requests per cell)."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.reliability


def test_serve_benchmark_smoke(tmp_path):
    from benchmarks.serve.run import main

    out = tmp_path / "serve.json"
    main(["--concurrency", "1", "--requests", "2", "--out", str(out)])
    rows = json.loads(out.read_text())["rows"]
    assert {(r["mode"], r["op"]) for r in rows} == {
        (m, op) for m in ("memory", "rest", "mcp") for op in ("add", "search")
    }
    assert all(r["requests"] == 2 and r["rps"] > 0 for r in rows)
