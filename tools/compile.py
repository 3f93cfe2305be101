"""Compile the cancel path's modules with mypyc (`make compile`; `make install` runs it).

    .venv/bin/python tools/compile.py          # build the extension modules next to their sources
    .venv/bin/python tools/compile.py --clean  # remove them: everything runs from the .py sources

The modules in `COMPILED` are plain, type-annotated Python; mypyc turns them into C extension modules that do the
same with fewer interpreter steps (bench/README.md, round 8: ~5% fewer instructions per cancel for the whole
server). Nothing else changes: the .py files stay the source, the tests run against whichever form is installed,
and `ORDERGATE_PURE=1` runs the sources even where a build exists.

A build records the SHA-256 of each source it compiled (`src/ordergate/_compiled.json`). When any source has
changed since, `ordergate/__init__.py` imports every ordergate module from its source instead and warns, so an
edit is never shadowed by an older build (compiled modules call each other directly, so a build is used whole or
not at all). Where no C compiler is available the build is skipped with a warning and ordergate runs from its
sources, as it always could.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "ordergate"
STAMP = PACKAGE / "_compiled.json"

# The modules every cancel runs through, and the two venues `make bench` measures. Not here: store/clients.py, whose
# store the tests instrument by replacing a method on the instance (a compiled class refuses that), and modules
# mypyc cannot compile (async generators in coordination.py).
COMPILED = (
    "api/auth.py",
    "api/envelope.py",
    "api/hot.py",
    "api/parsing.py",
    "domain/cancel.py",
    "jsonfast.py",
    "limits.py",
    "observability.py",
    "store/audit_sqlite.py",
    "tokens.py",
    "venues/bybit/adapter.py",
    "venues/bybit/auth.py",
    "venues/common.py",
    "venues/kraken/adapter.py",
    "venues/kraken/auth.py",
    "venues/nonces.py",
    "venues/transport.py",
)


def source_digests() -> dict[str, str]:
    return {name: hashlib.sha256((PACKAGE / name).read_bytes()).hexdigest() for name in COMPILED}


def built_files() -> list[Path]:
    """Extension modules of a previous build: one per compiled module, and the shared library they load."""
    return [*PACKAGE.rglob("*.so"), *SRC.glob("*__mypyc*.so")]


def clean() -> None:
    for path in built_files():
        path.unlink()
    STAMP.unlink(missing_ok=True)


def build() -> int:
    clean()
    headers = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if (shutil.which("cc") is None and shutil.which("gcc") is None) or not headers.exists():
        print("tools/compile.py: no C compiler or Python headers; ordergate runs from its sources", file=sys.stderr)
        return 0
    digests = source_digests()
    # A record without sources until the build completes: a build cut short is never taken for a current one.
    STAMP.write_text("{}\n")
    with tempfile.TemporaryDirectory(prefix="ordergate-mypyc-") as work:
        # mypyc writes its C and object files under the working directory's build/ and each extension module in
        # place (the relative path it was given), so it runs in a scratch directory whose `ordergate` is the real
        # package; the library the modules share lands in the scratch directory and is moved next to the package.
        (Path(work) / "ordergate").symlink_to(PACKAGE, target_is_directory=True)
        done = subprocess.run(  # noqa: S603 - this interpreter and the fixed module list
            [sys.executable, "-m", "mypyc", *(f"ordergate/{name}" for name in COMPILED)],
            cwd=work,
            capture_output=True,
            text=True,
            check=False,
        )
        for shared in Path(work).glob("*__mypyc*.so"):
            shutil.move(shared, SRC / shared.name)
    if done.returncode != 0:
        clean()
        print(done.stdout[-4000:], done.stderr[-4000:], sep="\n", file=sys.stderr)
        print("tools/compile.py: mypyc failed (above); ordergate runs from its Python sources", file=sys.stderr)
        return 1
    if source_digests() != digests:
        clean()
        print("tools/compile.py: sources changed during the build; run it again", file=sys.stderr)
        return 1
    STAMP.write_text(json.dumps({"sources": digests}, indent=1, sort_keys=True) + "\n")
    print(f"tools/compile.py: {len(COMPILED)} modules compiled with mypyc")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clean", action="store_true", help="remove a build")
    args = ap.parse_args()
    if args.clean:
        clean()
        return 0
    return build()


if __name__ == "__main__":
    raise SystemExit(main())
