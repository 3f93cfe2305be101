"""Oracle clients that cannot share the test venv, each in its own venv under .venv-oracles/ (ignored by git).

ccxt dropped `coinlist` after 4.4.88, while the test venv needs a current ccxt for the other venues, so CoinList's
oracle is that old ccxt in a venv of its own, run as a subprocess; Interactive Brokers' ibind likewise.
`make install-test` builds them (`python -m tests.support.oracle_venvs`); a test that finds its venv missing builds it
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


# Interactive Brokers' oracle: ibind (Voyz/ibind), kept apart from the test venv as every broker SDK is.
IBIND = "0.2.2"
_CCXT_PROBE = "import ccxt, ccxt.coinlist, sys; sys.exit(ccxt.__version__ != sys.argv[1])"
_IBIND_PROBE = "import importlib.metadata as m, ibind, sys; sys.exit(m.version('ibind') != sys.argv[1])"


def ccxt_coinlist_python() -> Path:
    """The interpreter of the venv holding ccxt==CCXT_COINLIST, created on first use."""
    return _oracle_python("ccxt", CCXT_COINLIST, _CCXT_PROBE)


def ibind_python() -> Path:
    """The interpreter of the venv holding ibind==IBIND, created on first use."""
    return _oracle_python("ibind", IBIND, _IBIND_PROBE)


def _oracle_python(package: str, version: str, probe: str) -> Path:
    venv = ORACLES_DIR / f"{package}-{version}"
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
            raise RuntimeError(f"{venv} has no usable {package} {version} after installing it")
        return python


def _has(python: Path, version: str, probe: str) -> bool:
    if not python.exists():
        return False
    return subprocess.run([str(python), "-c", probe, version], capture_output=True).returncode == 0


if __name__ == "__main__":
    for build in (ccxt_coinlist_python, ibind_python):
        try:
            print(build())
        except RegistryUnreachable as exc:
            # `make install-test` goes on; the oracle test skips with this reason.
            print(f"warning: {exc}", file=sys.stderr)
