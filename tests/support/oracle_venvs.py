"""Oracle clients that cannot share the test venv, each in its own venv under .venv-oracles/ (ignored by git).

ccxt dropped `coinlist` after 4.4.88, while the test venv needs a current ccxt for the other venues, so CoinList's
oracle is that old ccxt in a venv of its own, run as a subprocess. Webull's official SDK (webull-openapi-python-sdk)
installs a top-level `webull` package, pins `cryptography<42` and `grpcio<1.60` on Python 3.11, so it gets its own
venv too. `make install-test` builds it
(`python -m tests.support.oracle_venvs`); a test that finds it missing builds it too, and skips only when the package
registry cannot be reached.
"""

from __future__ import annotations

import fcntl
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ORACLES_DIR = ROOT / ".venv-oracles"
# The last ccxt release with python/ccxt/coinlist.py that we checked (4.4.94 no longer has it).
CCXT_COINLIST = "4.4.88"
# pip's words when no index answered; "(from versions: none)" for a pinned release that exists on PyPI means the same.
_NETWORK_HINTS = (
    "connection",
    "network is unreachable",
    "max retries",
    "temporary failure",
    "timed out",
    "proxy",
    "(from versions: none)",
)


class RegistryUnreachable(RuntimeError):
    """pip could not reach the package registry: the only reason an oracle test may skip."""


def ccxt_coinlist_python() -> Path:
    """The interpreter of the venv holding ccxt==CCXT_COINLIST, created on first use."""
    venv = ORACLES_DIR / f"ccxt-{CCXT_COINLIST}"
    python = venv / "bin" / "python"
    ORACLES_DIR.mkdir(exist_ok=True)
    with open(ORACLES_DIR / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test processes must not build the same venv at once
        if _has(python, CCXT_COINLIST):
            return python
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, capture_output=True)
        pip = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", f"ccxt=={CCXT_COINLIST}"],
            capture_output=True,
            text=True,
            timeout=900,
        )
        if pip.returncode != 0:
            tail = "\n".join(pip.stderr.strip().splitlines()[-5:])
            if any(hint in pip.stderr.lower() for hint in _NETWORK_HINTS):
                raise RegistryUnreachable(f"pip could not reach the package registry for ccxt=={CCXT_COINLIST}: {tail}")
            raise RuntimeError(f"pip install ccxt=={CCXT_COINLIST} failed: {tail}")
        if not _has(python, CCXT_COINLIST):
            raise RuntimeError(f"{venv} has no ccxt {CCXT_COINLIST} with coinlist after installing it")
        return python


WEBULL_SDK = "3.0.4"  # webull-openapi-python-sdk, import name `webull`


def webull_sdk_python() -> Path:
    """The interpreter of the venv holding webull-openapi-python-sdk==WEBULL_SDK, created on first use."""
    requirement = f"webull-openapi-python-sdk=={WEBULL_SDK}"
    probe = "import sys, importlib.metadata as m; import webull.trade.trade_client; "
    probe += "sys.exit(m.version('webull-openapi-python-sdk') != sys.argv[1])"
    return _venv(f"webull-openapi-{WEBULL_SDK}", requirement, probe, WEBULL_SDK)


def _venv(name: str, requirement: str, probe: str, version: str) -> Path:
    venv = ORACLES_DIR / name
    python = venv / "bin" / "python"
    ORACLES_DIR.mkdir(exist_ok=True)
    with open(ORACLES_DIR / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _probe(python, probe, version):
            return python
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, capture_output=True)
        pip = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", requirement],
            capture_output=True,
            text=True,
            timeout=900,
        )
        if pip.returncode != 0:
            tail = "\n".join(pip.stderr.strip().splitlines()[-5:])
            if any(hint in pip.stderr.lower() for hint in _NETWORK_HINTS):
                raise RegistryUnreachable(f"pip could not reach the package registry for {requirement}: {tail}")
            raise RuntimeError(f"pip install {requirement} failed: {tail}")
        if not _probe(python, probe, version):
            raise RuntimeError(f"{venv} has no {requirement} after installing it")
        return python


def _probe(python: Path, probe: str, version: str) -> bool:
    return python.exists() and subprocess.run([str(python), "-c", probe, version], capture_output=True).returncode == 0


def _has(python: Path, version: str) -> bool:
    if not python.exists():
        return False
    probe = "import ccxt, ccxt.coinlist, sys; sys.exit(ccxt.__version__ != sys.argv[1])"
    return subprocess.run([str(python), "-c", probe, version], capture_output=True).returncode == 0


if __name__ == "__main__":
    for build in (ccxt_coinlist_python, webull_sdk_python):
        try:
            print(build())
        except RegistryUnreachable as exc:
            # `make install-test` goes on; the oracle test skips with this reason.
            print(f"warning: {exc}", file=sys.stderr)
