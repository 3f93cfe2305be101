"""How a request reaches the right Alpaca account: auth headers, and which environment (paper or live) to call.

Alpaca signs nothing: a key pair travels in `APCA-API-KEY-ID` / `APCA-API-SECRET-KEY`, an OAuth access token in
`Authorization: Bearer`. Paper and live are separate hosts with separate credentials, so the environment is
learned once, when the account is connected, and sealed into the token as `extras["paper"]`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.orders import Credentials
from ordergate.venues.alpaca.constants import HEADER_SAFE, OAUTH_USERNAME


def is_oauth(creds: Credentials) -> bool:
    return creds.extras.get("auth") == "oauth" or creds.api_key == OAUTH_USERNAME


def auth_headers(creds: Credentials) -> dict[str, str]:
    """The documented headers for the credential kind; refuses values that cannot be a header."""
    oauth = is_oauth(creds)
    values = (creds.secret,) if oauth else (creds.api_key, creds.secret)
    if not all(HEADER_SAFE.fullmatch(v) for v in values):
        raise GatewayError(
            ErrorType.institutionAuthFailed, "The Alpaca credentials contain characters no Alpaca key or token has"
        )
    if oauth:
        return {"Authorization": f"Bearer {creds.secret}"}
    return {"APCA-API-KEY-ID": creds.api_key, "APCA-API-SECRET-KEY": creds.secret}


@dataclass(frozen=True, slots=True)
class Environments:
    """Base URLs. An operator override (ORDERGATE_BASE_URL_ALPACA) wins over everything; a testnet deployment
    only ever talks to paper; otherwise each token goes where its account was found."""

    live: str
    paper: str
    override: str | None = None
    testnet: bool = False

    def for_token(self, creds: Credentials) -> str:
        if self.override:
            return self.override
        return self.paper if self.testnet or creds.extras.get("paper") is True else self.live

    def to_try(self, paper_hint: bool | None) -> list[tuple[str, bool | None]]:
        """Where /authenticate looks for the account, in order, with what each place means for `paper`.

        Live first: a live key is the one whose misrouting matters, and a paper key costs one extra 401.
        """
        if self.override:
            return [(self.override, paper_hint)]
        if self.testnet or paper_hint is True:
            return [(self.paper, True)]
        if paper_hint is False:
            return [(self.live, False)]
        return [(self.live, False), (self.paper, True)]
