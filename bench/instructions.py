"""Instructions per cancel, counted by callgrind: the same figure on a busy machine as on an idle one.

    .venv/bin/python bench/instructions.py                     # ordergate (this tree) and the bare proxy, ~1 minute
    .venv/bin/python bench/instructions.py --tree base=/path/to/other/checkout/src   # and another version of ordergate

CPU seconds per cancel (`make bench`) swing by a fifth between runs on a shared 2-core machine; an instruction count
does not (callgrind counts what the program executes, whatever else runs). Each server runs under
`valgrind --tool=callgrind --instr-atstart=no` against the benchmark's minimal Kraken upstream; 300 cancels warm it
up, then counting is switched on (`callgrind_control -i on`) for exactly `--n` cancels from bench/loadgen.py at
`--concurrency`, and the server's total is divided by that count. User-space instructions only: system calls and
cache misses are not in it, so it complements CPU time rather than replacing it (bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import loadgen  # noqa: E402
import run as harness  # noqa: E402


def _counted(out_file: Path) -> int:
    total = 0
    for path in out_file.parent.glob(out_file.name + "*"):
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("totals:"):
                total += int(line.split()[1])
    return total


def measure(fx: harness.Fixture, workdir: Path, name: str, src: str | None, n: int, concurrency: int) -> dict[str, Any]:
    out_file = workdir / f"{name}.callgrind"
    valgrind = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out_file}"]
    port = harness.free_port()
    if src is None:  # the bare proxy
        cmd = [sys.executable, str(BENCH / "bare_proxy.py"), "--port", str(port), "--upstream", fx.upstream.url]
        cmd += ["--keys", str(fx.bare_keys_file)]
        env, probe = fx.env, "/"
    else:
        db = workdir / f"{name}-counted.db"
        shutil.copy(fx.db_path, db)  # the API client lives there
        env = {**fx.og_env, "PYTHONPATH": src, "ORDERGATE_DATABASE_URL": f"sqlite+aiosqlite:///{db}"}
        cmd = [sys.executable, "-m", "ordergate.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
        probe = "/healthz"
    server = harness.start(name, valgrind + cmd, f"http://127.0.0.1:{port}", probe, env, workdir)
    try:
        load = fx.load
        target = loadgen.Target("gateway", server.url, load.tokens, load.client_id, load.client_secret, "WARMS")
        asyncio.run(loadgen.run(target, concurrency, total=300))
        subprocess.run(["callgrind_control", "-i", "on", str(server.pid)], check=True, capture_output=True)
        target.tag = "COUNT"
        result = asyncio.run(loadgen.run(target, concurrency, total=n))
        subprocess.run(["callgrind_control", "-i", "off", str(server.pid)], check=True, capture_output=True)
    finally:
        server.stop()  # callgrind writes its totals as the process exits
    if result["good"] != n:
        raise RuntimeError(f"{name}: {result['good']} of {n} cancels answered ok")
    return {"variant": name, "cancels": n, "instructions_per_cancel": _counted(out_file) // n}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1500, help="cancels counted per variant")
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--tree", action="append", default=[], help="name=path/to/src: another ordergate to count")
    ap.add_argument("--out", type=Path, help="write the figures as JSON here")
    ap.add_argument(
        "--keep", action="store_true", help="keep the work directory (callgrind files, for callgrind_annotate)"
    )
    args = ap.parse_args()
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    variants: list[tuple[str, str | None]] = [("bare_proxy", None), ("ordergate", str(BENCH.parent / "src"))]
    variants += [tuple(spec.split("=", 1)) for spec in args.tree]  # type: ignore[misc]
    workdir = Path(tempfile.mkdtemp(prefix="ordergate-instructions-"))
    servers: list[harness.Server] = []
    rows = []
    try:
        fx = harness.prepare(workdir, 300, "python", servers)
        for name, src in variants:
            rows.append(measure(fx, workdir, name, src, args.n, args.concurrency))
            print(f"{name:12} {rows[-1]['instructions_per_cancel']:>10,} instructions per cancel", flush=True)
    finally:
        for server in servers:
            server.stop()
        if args.keep:
            print(f"callgrind files kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    bare = rows[0]["instructions_per_cancel"]
    for row in rows[1:]:
        row["ratio_to_bare_proxy"] = round(row["instructions_per_cancel"] / bare, 3)
        print(f"{row['variant']:12} / bare_proxy = {row['ratio_to_bare_proxy']}")
    if args.out:
        args.out.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
