"""Oracle clients that cannot share the test venv, each in its own venv under .venv-oracles/ (ignored by git).

- CoinList: ccxt dropped `coinlist` after 4.4.88, while the test venv needs a current ccxt for the other venues.
- eToro: etoropy pulls pydantic-settings and websockets into whatever venv holds it.
- Webull: the official SDK (webull-openapi-python-sdk) installs a top-level `webull` package and pins
  `cryptography<42` and `grpcio<1.60` on Python 3.11.
- Interactive Brokers: ibind (Voyz/ibind), kept apart from the test venv as every broker SDK is.
- Public: the official SDK (publicdotcom-py) pulls in its own pins.
- E*TRADE: pyetrade pins its own requests-oauthlib and friends.

Each runs as a subprocess of its test. `make install-test` builds them all (`python -m tests.support.oracle_venvs`);
a test that finds its venv missing builds it too, and skips only when the package registry cannot be reached.
"""

from __future__ import annotations

import fcntl
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ORACLES_DIR = ROOT / ".venv-oracles"
# The last ccxt release with python/ccxt/coinlist.py that we checked (4.4.94 no longer has it).
CCXT_COINLIST = "4.4.88"
# The etoropy release whose REST clients (v1 execution and trading-info paths) the eToro oracle test drives.
ETOROPY = "0.1.7"
WEBULL_SDK = "3.0.4"  # webull-openapi-python-sdk, import name `webull`
IBIND = "0.2.2"
# The publicdotcom-py release whose source was read for venues/public (token exchange, paths, error mapping).
PUBLICDOTCOM_PY = "0.1.27"
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


@dataclass(frozen=True)
class OracleVenv:
    name: str  # folder under .venv-oracles/
    distribution: str  # what pip installs (== version)
    version: str
    probe: str  # run with the version as argv[1]; exit 0 when the venv holds a working client of that version

    def python(self) -> Path:
        """The venv's interpreter, built on first use."""
        venv = ORACLES_DIR / self.name
        python = venv / "bin" / "python"
        requirement = f"{self.distribution}=={self.version}"
        ORACLES_DIR.mkdir(exist_ok=True)
        with open(ORACLES_DIR / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # two test processes must not build the same venv at once
            if self._works(python):
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
            if not self._works(python):
                raise RuntimeError(f"{venv} has no working {requirement} after installing it")
            return python

    def _works(self, python: Path) -> bool:
        if not python.exists():
            return False
        return subprocess.run([str(python), "-c", self.probe, self.version], capture_output=True).returncode == 0


CCXT_COINLIST_VENV = OracleVenv(
    f"ccxt-{CCXT_COINLIST}",
    "ccxt",
    CCXT_COINLIST,
    "import ccxt, ccxt.coinlist, sys; sys.exit(ccxt.__version__ != sys.argv[1])",
)
ETOROPY_VENV = OracleVenv(
    f"etoropy-{ETOROPY}",
    "etoropy",
    ETOROPY,
    "import etoropy, importlib.metadata as m, sys; sys.exit(m.version('etoropy') != sys.argv[1])",
)
WEBULL_VENV = OracleVenv(
    f"webull-openapi-{WEBULL_SDK}",
    "webull-openapi-python-sdk",
    WEBULL_SDK,
    "import sys, importlib.metadata as m; import webull.trade.trade_client; "
    "sys.exit(m.version('webull-openapi-python-sdk') != sys.argv[1])",
)
IBIND_VENV = OracleVenv(
    f"ibind-{IBIND}",
    "ibind",
    IBIND,
    "import importlib.metadata as m, ibind, sys; sys.exit(m.version('ibind') != sys.argv[1])",
)
PUBLIC_VENV = OracleVenv(
    f"publicdotcom-py-{PUBLICDOTCOM_PY}",
    "publicdotcom-py",
    PUBLICDOTCOM_PY,
    "import sys, importlib.metadata as m, public_api_sdk; sys.exit(m.version('publicdotcom-py') != sys.argv[1])",
)
PYETRADE_VENV = OracleVenv(
    f"pyetrade-{PYETRADE}",
    "pyetrade",
    PYETRADE,
    "import pyetrade, sys; sys.exit(pyetrade.__version__ != sys.argv[1])",
)
ALL = (CCXT_COINLIST_VENV, ETOROPY_VENV, WEBULL_VENV, IBIND_VENV, PUBLIC_VENV, PYETRADE_VENV)


def ccxt_coinlist_python() -> Path:
    return CCXT_COINLIST_VENV.python()


def etoropy_python() -> Path:
    return ETOROPY_VENV.python()


def webull_sdk_python() -> Path:
    return WEBULL_VENV.python()


def ibind_python() -> Path:
    return IBIND_VENV.python()


def publicdotcom_python() -> Path:
    return PUBLIC_VENV.python()


def pyetrade_python() -> Path:
    return PYETRADE_VENV.python()


if __name__ == "__main__":
    for oracle in ALL:
        try:
            print(oracle.python())
        except RegistryUnreachable as exc:
            # `make install-test` goes on; the oracle test skips with this reason.
            print(f"warning: {exc}", file=sys.stderr)
