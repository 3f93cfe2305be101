"""`bench/run.py --short` runs end to end and writes results.json with every key `make bench` promises.

No timing is asserted (a shared 2-core machine makes any number noise); only that every variant ran, the
ratios were computed, nothing failed, and the cold-accounts storm reconciled. Works without wrk: the short mode
falls back to bench/loadgen.py when wrk is not installed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_short_mode_writes_results(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERGATE_")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--short", "--out", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert (tmp_path / "RESULTS.md").read_text().startswith("# Benchmark results")

    for key in ("throughput_ratio", "cpu_per_cancel_ratio", "p99_ratio"):
        assert isinstance(results[key], float) and results[key] > 0, key
    assert set(results["summary"]) >= {"ordergate", "bare_proxy", "direct"}
    for variant, by_concurrency in results["summary"].items():
        for row in by_concurrency.values():
            assert row["cancels_per_s"] > 0, variant
            assert row["errors"] == 0, variant
            assert row["upstream_errors"] == 0, variant
            for field in ("p50_ms", "p99_ms", "peak_rss_mb" if variant != "direct" else "p50_ms"):
                assert row[field] is not None, (variant, field)
    assert results["summary"]["ordergate"][str(results["ratio_concurrency"])]["cpu_us_per_cancel"] > 0

    storm = results["cold_accounts"]
    assert storm["passed"], storm
    assert storm["responses"] == storm["audit_rows"] == storm["upstream_cancels"] == storm["cancels"]

    # The batch row: batches of 20 through one CancelOrderBatch each, vs single cancels on the same keys.
    batch = results["batch"]
    assert batch["batch"]["errors"] == batch["single"]["errors"] == 0
    assert batch["batch"]["cancels"] > 0 and batch["single"]["cancels"] > 0
    assert batch["batch"]["upstream_requests_per_cancel"] < batch["single"]["upstream_requests_per_cancel"]
