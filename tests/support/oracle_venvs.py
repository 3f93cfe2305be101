"""Oracle clients that cannot share the test venv, each in its own venv under .venv-oracles/ (ignored by git).

ccxt dropped `coinlist` after 4.4.88, while the test venv needs a current ccxt for the other venues, so CoinList's
oracle is that old ccxt in a venv of its own, run as a subprocess. pyetrade 2.1.1 (E*TRADE's oracle) pins
requests 2.32.3 and urllib3 1.26.19, older than the test venv's, so it gets its own venv too.
`make install-test` builds them (`python -m tests.support.oracle_venvs`); a test that finds one missing builds it
too, and skips only when the package registry cannot be reached.
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
PYETRADE = "2.1.1"
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
    probe = "import ccxt, ccxt.coinlist, sys; sys.exit(ccxt.__version__ != sys.argv[1])"
    return _oracle_python(f"ccxt-{CCXT_COINLIST}", f"ccxt=={CCXT_COINLIST}", probe, CCXT_COINLIST)


def pyetrade_python() -> Path:
    """The interpreter of the venv holding pyetrade==PYETRADE (with its own pins), created on first use."""
    probe = "import pyetrade, sys; sys.exit(pyetrade.__version__ != sys.argv[1])"
    return _oracle_python(f"pyetrade-{PYETRADE}", f"pyetrade=={PYETRADE}", probe, PYETRADE)


def _oracle_python(name: str, requirement: str, probe: str, version: str) -> Path:
    venv = ORACLES_DIR / name
    python = venv / "bin" / "python"
    ORACLES_DIR.mkdir(exist_ok=True)
    with open(ORACLES_DIR / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test processes must not build the same venv at once
        if _has(python, probe, version):
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
        if not _has(python, probe, version):
            raise RuntimeError(f"{venv} has no working {requirement} after installing it")
        return python


def _has(python: Path, probe: str, version: str) -> bool:
    if not python.exists():
        return False
    return subprocess.run([str(python), "-c", probe, version], capture_output=True).returncode == 0


if __name__ == "__main__":
    for build in (ccxt_coinlist_python, pyetrade_python):
        try:
            print(build())
        except RegistryUnreachable as exc:
            # `make install-test` goes on; the oracle test skips with this reason.
            print(f"warning: {exc}", file=sys.stderr)
