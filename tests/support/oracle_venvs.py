"""Oracle clients that cannot share the test venv, each in its own venv under .venv-oracles/ (ignored by git).

ccxt dropped `coinlist` after 4.4.88, while the test venv needs a current ccxt for the other venues, so CoinList's
oracle is that old ccxt in a venv of its own, run as a subprocess. Public's official SDK (publicdotcom-py) pulls in
python-dotenv and pins nothing we need, but it refuses plain-HTTP base URLs by patching its own session, so it too
runs in a venv of its own, as a subprocess, and the test venv stays free of it. `make install-test` builds it
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


# The publicdotcom-py release whose source was read for venues/public (token exchange, paths, error mapping).
PUBLICDOTCOM_PY = "0.1.27"
_CCXT_PROBE = "import ccxt, ccxt.coinlist, sys; sys.exit(ccxt.__version__ != sys.argv[1])"
_PUBLIC_PROBE = (
    "import sys, importlib.metadata as m, public_api_sdk; sys.exit(m.version('publicdotcom-py') != sys.argv[1])"
)


def ccxt_coinlist_python() -> Path:
    """The interpreter of the venv holding ccxt==CCXT_COINLIST, created on first use."""
    return _venv(f"ccxt-{CCXT_COINLIST}", "ccxt", CCXT_COINLIST, _CCXT_PROBE)


def publicdotcom_python() -> Path:
    """The interpreter of the venv holding publicdotcom-py==PUBLICDOTCOM_PY, created on first use."""
    return _venv(f"publicdotcom-py-{PUBLICDOTCOM_PY}", "publicdotcom-py", PUBLICDOTCOM_PY, _PUBLIC_PROBE)


def _venv(name: str, package: str, version: str, probe: str) -> Path:
    venv = ORACLES_DIR / name
    python = venv / "bin" / "python"
    ORACLES_DIR.mkdir(exist_ok=True)
    with open(ORACLES_DIR / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test processes must not build the same venv at once
        if _has(python, version, probe):
            return python
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, capture_output=True)
        pip = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", f"{package}=={version}"],
            capture_output=True,
            text=True,
            timeout=900,
        )
        if pip.returncode != 0:
            tail = "\n".join(pip.stderr.strip().splitlines()[-5:])
            if any(hint in pip.stderr.lower() for hint in _NETWORK_HINTS):
                raise RegistryUnreachable(f"pip could not reach the package registry for {package}=={version}: {tail}")
            raise RuntimeError(f"pip install {package}=={version} failed: {tail}")
        if not _has(python, version, probe):
            raise RuntimeError(f"{venv} has no working {package} {version} after installing it")
        return python


def _has(python: Path, version: str, probe: str) -> bool:
    if not python.exists():
        return False
    return subprocess.run([str(python), "-c", probe, version], capture_output=True).returncode == 0


if __name__ == "__main__":
    for build in (ccxt_coinlist_python, publicdotcom_python):
        try:
            print(build())
        except RegistryUnreachable as exc:
            # `make install-test` goes on; the oracle test skips with this reason.
            print(f"warning: {exc}", file=sys.stderr)
