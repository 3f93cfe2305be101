"""How ordergate reaches an Interactive Brokers session. There is no per-request signature: the CP Gateway holds the
user's browser login (and its cookie) and serves whoever can reach it, so the gateway's address is operator
configuration, never a request field, and the only credential a token carries is the account id."""

from __future__ import annotations

import os

from ordergate.venues.ibkr.constants import API_PREFIX, VERIFY_TLS_ENV

_FALSE = frozenset({"0", "false", "no", "off"})


def api_root(base_url: str) -> str:
    """The configured gateway root (`https://localhost:5000`) or API base (`…/v1/api`) → the API base."""
    root = base_url.rstrip("/")
    return root if root.endswith(API_PREFIX) else root + API_PREFIX


def verify_tls(environ: dict[str, str] | None = None) -> bool:
    """Certificate verification stays on unless the operator writes ORDERGATE_IBKR_VERIFY_TLS=false."""
    value = (os.environ if environ is None else environ).get(VERIFY_TLS_ENV, "")
    return value.strip().lower() not in _FALSE
