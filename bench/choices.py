"""Measure the server and HTTP-client choices the gateway made, on the same machine and upstream as `make bench`.

    python bench/choices.py [--reps 3] [--duration 5] [--concurrency 64]   # ~3 minutes, writes bench/choices.json

Variants (interleaved, medians over repetitions):
- bare_proxy              uvicorn (uvloop + httptools, what "auto" picks) + aiohttp: the benchmark's baseline
- bare_proxy_asyncio_h11  uvicorn with the stdlib loop and the pure-Python h11 parser
- bare_proxy_granian      granian (Rust HTTP server, ASGI interface, uvloop)
- bare_proxy_httpx        uvicorn + httpx instead of aiohttp
- ordergate               `ordergate serve` (uvicorn)
- ordergate_granian       the same app under granian (ordergate.runtime:worker_app as the factory)
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import run as R  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--keys", type=int, default=2000)
    ap.add_argument("--out", type=Path, default=BENCH / "choices.json")
    args = ap.parse_args()
    loader = "wrk" if shutil.which("wrk") else "python"
    workdir = Path(tempfile.mkdtemp(prefix="ordergate-choices-"))
    servers: list[R.Server] = []
    try:
        fx = R.prepare(workdir, args.keys, loader, servers)
        targets: dict[str, R.Server] = {
            "bare_proxy": fx.start_bare("bare_proxy", workdir),
            "bare_proxy_asyncio_h11": fx.start_bare("bare_h11", workdir, "--loop", "asyncio", "--http", "h11"),
            "bare_proxy_granian": fx.start_bare("bare_granian", workdir, "--server", "granian"),
            "bare_proxy_httpx": fx.start_bare("bare_httpx", workdir, "--client", "httpx"),
            "ordergate": fx.start_ordergate("ordergate", workdir),
        }
        port = R.free_port()
        granian = str(Path(sys.executable).with_name("granian"))
        targets["ordergate_granian"] = R.start(
            "ordergate_granian",
            [granian, "--interface", "asgi", "--factory", "--host", "127.0.0.1", "--port", str(port), "--loop",
             "uvloop", "--no-access-log", "--log-level", "warning", "ordergate.runtime:worker_app"],
            f"http://127.0.0.1:{port}", "/healthz", fx.og_env, workdir,
        )  # fmt: skip
        servers += list(targets.values())
        runs: list[dict[str, Any]] = []
        for rep in range(1, args.reps + 1):
            for name, server in targets.items():
                runs.append(R.measure(fx.load, name, server, fx.upstream, args.concurrency, rep, args.duration, 1))
        summary = {name: by_c[str(args.concurrency)] for name, by_c in R.summarize(runs).items()}
        base_og, base_bare = summary["ordergate"], summary["bare_proxy"]
        for name, s in summary.items():
            base = base_og if name.startswith("ordergate") else base_bare
            s["cpu_vs_default"] = R._ratio(s["cpu_us_per_cancel"], base["cpu_us_per_cancel"])
            s["throughput_vs_default"] = R._ratio(s["cancels_per_s"], base["cancels_per_s"])
        out = {
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "concurrency": args.concurrency,
            "reps": args.reps,
            "duration_s": args.duration,
            "loader": loader,
            "summary": summary,
            "runs": runs,
        }
        args.out.write_text(json.dumps(out, indent=2) + "\n")
        print(f"\nc={args.concurrency}, medians of {args.reps}:")
        print("| variant | cancels/s | p99 ms | CPU µs/cancel | CPU vs default | errors |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, s in summary.items():
            print(
                f"| {name} | {s['cancels_per_s']:.0f} | {s['p99_ms']:.1f} | {s['cpu_us_per_cancel']:.0f} | "
                f"{s['cpu_vs_default']} | {s['errors']} |"
            )
        return 0
    finally:
        for s in reversed(servers):
            s.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
