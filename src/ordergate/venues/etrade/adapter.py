"""E*TRADE: connect by OAuth 1.0a (three-legged, or with an access token in hand), cancel one order, look one up.

A sealed E*TRADE token holds the access token (api_key) and its secret (secret), the consumer key and secret when
the user brought their own (passphrase `key:secret`; absent when the deployment's are used) and the account's
accountIdKey (extras), so a cancel is one signed PUT. Access tokens go idle after two hours: a 401 naming the token
gets one renew and one resend, which is safe because a rejected request did nothing at E*TRADE.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import IntegrationType, OrderSide, OrderStatus
from ordergate.domain.orders import AccountInfo, CancelAck, Credentials, OrderRef, OrderSnapshot
from ordergate.venues.base import Adapter, ChallengeIssued, Connected, ConnectStep, OrderPage, OrderQuery
from ordergate.venues.common import number, scrub
from ordergate.venues.etrade.auth import Consumer, Token, authorization, pct
from ordergate.venues.etrade.constants import (
    ACCESS_TOKEN_PATH,
    ACCOUNT_ID_KEY,
    ACCOUNTS_PATH,
    AUTHORIZE_URL,
    BUY_ACTIONS,
    CALLBACK,
    CANCEL_PATH,
    CREDENTIAL_TEXT,
    LIST_MAX_COUNT,
    LIST_STATUS_FILTERS,
    LIVE_URL,
    OAUTH_PROBLEM,
    OAUTH_URL,
    ORDER_ID_SHAPE,
    ORDER_PATH,
    ORDER_TYPE_MAP,
    ORDERS_PATH,
    RATE_LIMIT_DEFAULT_S,
    RENEW_TOKEN_PATH,
    RENEWABLE_PROBLEMS,
    REQUEST_TOKEN_PATH,
    SANDBOX_URL,
    SIM_AUTHORIZE_PATH,
    STATUS_MAP,
    TIME_IN_FORCE_MAP,
)
from ordergate.venues.transport import TransportError, UpstreamResponse

_EASTERN = ZoneInfo("America/New_York")
_JSON = {"Accept": "application/json"}
REQUEST_TOKEN_TTL_S = 300  # "The request token expires after five minutes" (Get Request Token) [reported]
_RECONNECT = "Please reconnect your E*TRADE account."


def seconds_to_eastern_midnight(now: datetime | None = None) -> int:
    """Access tokens end at midnight US Eastern time, whatever their age."""
    local = (now or datetime.now(_EASTERN)).astimezone(_EASTERN)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), _EASTERN)
    # Timestamps, not datetime subtraction: within one tzinfo Python subtracts wall clocks, which is off by an hour
    # on the days daylight saving starts or ends.
    return max(1, int(midnight.timestamp() - local.timestamp()))


class ETradeAdapter(Adapter):
    # -- where requests go -----------------------------------------------------------------------------
    def hosts(self) -> tuple[str, str, str]:
        """(API base, OAuth base, authorize page). An operator override (ORDERGATE_BASE_URL_E_TRADE: a proxy, the
        simulator) receives everything; otherwise OAuth is on api.etrade.com for live and sandbox alike."""
        if self.base_url in (LIVE_URL, SANDBOX_URL):
            return self.base_url, OAUTH_URL, AUTHORIZE_URL
        return self.base_url, self.base_url, self.base_url + SIM_AUTHORIZE_PATH

    def consumer(self, creds: Credentials) -> Consumer:
        if creds.passphrase:
            key, _, secret = creds.passphrase.partition(":")
            return _checked_consumer(key, secret)
        operator = self.operator_consumer()
        if operator is None:
            raise GatewayError(
                ErrorType.institutionAuthFailed,
                "This token uses the gateway's E*TRADE consumer key, and none is configured any more.",
                display_message=_RECONNECT,
            )
        return operator

    def operator_consumer(self) -> Consumer | None:
        key = getattr(self.settings, "etrade_consumer_key", None)
        secret = getattr(self.settings, "etrade_consumer_secret", None)
        if key is None or secret is None:
            return None
        return _checked_consumer(key.get_secret_value(), secret.get_secret_value())

    # -- connecting ------------------------------------------------------------------------------------
    async def connect(self, creds: Credentials, step: ConnectStep) -> Connected | ChallengeIssued:
        if step.state is not None:
            consumer, own = self._consumer_of_challenge(creds, step.state)
            if not step.challenge_code:
                raise GatewayError(
                    ErrorType.missingField,
                    "challengeCode (the verification code E*TRADE showed after authorizing) is required.",
                    error_data={"fields": {"challengeCode": "required with challengeId"}},
                )
            token = await self._access_token(consumer, step.state, step.challenge_code)
            return await self._connected(consumer, own, token)
        consumer, own = self._consumer_at_connect(creds)
        if creds.passphrase:  # authToken: an access token obtained elsewhere
            access, _, access_secret = creds.passphrase.partition(":")
            if not (CREDENTIAL_TEXT.fullmatch(access) and CREDENTIAL_TEXT.fullmatch(access_secret)):
                raise GatewayError(
                    ErrorType.invalidField,
                    "For E*TRADE, authToken is '<access token>:<access token secret>'.",
                    error_data={"fields": {"authToken": "'<access token>:<access token secret>'"}},
                )
            return await self._connected(consumer, own, Token(access, access_secret))
        return await self._challenge(consumer, own)

    def _consumer_at_connect(self, creds: Credentials) -> tuple[Consumer, bool]:
        if creds.api_key or creds.secret:
            if not (creds.api_key and creds.secret):
                missing = "password" if creds.api_key else "username"
                raise GatewayError(
                    ErrorType.missingField,
                    "username (consumer key) and password (consumer secret) go together.",
                    error_data={"fields": {missing: "required with the other"}},
                )
            return _checked_consumer(creds.api_key, creds.secret), True
        operator = self.operator_consumer()
        if operator is None:
            raise GatewayError(
                ErrorType.missingField,
                "username (E*TRADE consumer key) and password (consumer secret) are required: this gateway has "
                "no consumer key of its own.",
                error_data={"fields": {"username": "required", "password": "required"}},
            )
        return operator, False

    def _consumer_of_challenge(self, creds: Credentials, state: dict[str, Any]) -> tuple[Consumer, bool]:
        if state.get("consumer") == "user":
            consumer = _checked_consumer(str(state.get("consumerKey", "")), str(state.get("consumerSecret", "")))
            if creds.api_key and creds.api_key != consumer.key:
                raise GatewayError(
                    ErrorType.invalidField,
                    "username is not the consumer key this challenge was issued for.",
                    error_data={"fields": {"username": "not the consumer key of the challenge"}},
                )
            return consumer, True
        operator = self.operator_consumer()
        if operator is None:
            raise GatewayError(ErrorType.institutionAuthFailed, "The gateway's E*TRADE consumer key is gone.")
        return operator, False

    async def _challenge(self, consumer: Consumer, own: bool) -> ChallengeIssued:
        _, oauth, authorize = self.hosts()
        url = oauth + REQUEST_TOKEN_PATH
        resp = await self._send("GET", url, consumer, None, extra={"oauth_callback": CALLBACK})
        fields = _form(resp, consumer)
        token, secret = fields.get("oauth_token", ""), fields.get("oauth_token_secret", "")
        if not (CREDENTIAL_TEXT.fullmatch(token) and CREDENTIAL_TEXT.fullmatch(secret)):
            raise GatewayError(ErrorType.institutionUnavailable, "E*TRADE's request token answer has no token")
        state: dict[str, Any] = {
            "requestToken": token,
            "requestSecret": secret,
            "consumer": "user" if own else "operator",
        }
        if own:
            state.update(consumerKey=consumer.key, consumerSecret=consumer.secret)
        return ChallengeIssued(
            status="challengeIssued",
            message="Open redirectLink, log in to E*TRADE and accept; then send the verification code E*TRADE shows "
            "as challengeCode together with this challengeId.",
            state=state,
            redirect_link=f"{authorize}?key={pct(consumer.key)}&token={pct(token)}",
            expires_in_seconds=REQUEST_TOKEN_TTL_S,
        )

    async def _access_token(self, consumer: Consumer, state: dict[str, Any], verifier: str) -> Token:
        _, oauth, _ = self.hosts()
        request_token = Token(str(state.get("requestToken", "")), str(state.get("requestSecret", "")))
        resp = await self._send(
            "GET", oauth + ACCESS_TOKEN_PATH, consumer, request_token, extra={"oauth_verifier": verifier.strip()}
        )
        if resp.status == 401:
            raise GatewayError(
                ErrorType.institutionAuthFailed,
                f"E*TRADE refused the verification code ({_problem(resp) or 'HTTP 401'}); it may be wrong or the "
                "five-minute authorization window may have passed.",
                display_message="Please start connecting your E*TRADE account again.",
                upstream_status=401,
            )
        fields = _form(resp, consumer)
        token, secret = fields.get("oauth_token", ""), fields.get("oauth_token_secret", "")
        if not (CREDENTIAL_TEXT.fullmatch(token) and CREDENTIAL_TEXT.fullmatch(secret)):
            raise GatewayError(ErrorType.institutionUnavailable, "E*TRADE's access token answer has no token")
        return Token(token, secret)

    async def _connected(self, consumer: Consumer, own: bool, token: Token) -> Connected:
        accounts = await self.accounts(consumer, token)
        creds = Credentials(
            type=self.spec.type,
            api_key=token.key,
            secret=token.secret,
            passphrase=f"{consumer.key}:{consumer.secret}" if own else None,
        )
        return Connected(creds, accounts, seconds_to_eastern_midnight())

    async def accounts(self, consumer: Consumer, token: Token) -> tuple[AccountInfo, ...]:
        api, _, _ = self.hosts()
        resp = await self._signed("GET", api + ACCOUNTS_PATH, consumer, token, headers=_JSON)
        payload = _payload(resp)
        if resp.status != 200 or payload is None or "Error" in payload:
            raise _failure(resp, payload, consumer, token)
        listed = _dig(payload, "AccountListResponse", "Accounts", "Account")
        found = []
        for entry in listed if isinstance(listed, list) else [listed] if isinstance(listed, dict) else []:
            key = str(entry.get("accountIdKey") or "")
            if not ACCOUNT_ID_KEY.fullmatch(key) or str(entry.get("accountStatus", "ACTIVE")).upper() == "CLOSED":
                continue
            name = str(entry.get("accountDesc") or entry.get("accountName") or entry.get("accountType") or "E*TRADE")
            found.append(AccountInfo(str(entry.get("accountId") or key), name, {"accountIdKey": key}))
        if not found:
            raise GatewayError(ErrorType.institutionRejected, "E*TRADE lists no open brokerage account for this login")
        return tuple(found)

    async def refresh(self, creds: Credentials) -> Credentials | None:
        """`/token/refresh`: Renew Access Token reactivates an idle token; the same token is sealed again. A token
        past midnight US Eastern cannot be renewed: institutionAuthFailed, reconnect."""
        api, consumer, token, _ = self._account_context(creds)
        await self._renew(consumer, token)
        return None

    def session_expires_in(self, creds: Credentials) -> int | None:
        return seconds_to_eastern_midnight()

    async def verify_credentials(self, creds: Credentials, mfa_code: str | None) -> AccountInfo:
        return (await self.accounts(self.consumer(creds), Token(creds.api_key, creds.secret)))[0]

    # -- cancel and lookup -----------------------------------------------------------------------------
    async def cancel(self, creds: Credentials, order: OrderRef) -> CancelAck:
        api, consumer, token, account = self._order_context(creds, order)
        body = json.dumps({"CancelOrderRequest": {"orderId": int(order.id)}}, separators=(",", ":")).encode()
        url = api + CANCEL_PATH.format(account_id_key=account)
        headers = {**_JSON, "Content-Type": "application/json"}
        resp = await self._signed("PUT", url, consumer, token, headers=headers, body=body)
        payload = _payload(resp)
        if resp.status == 200 and payload is not None and "Error" not in payload:
            answer = payload.get("CancelOrderResponse")
            if isinstance(answer, dict) and str(answer.get("orderId", order.id)) == order.id:
                return CancelAck(order.id, OrderStatus.inProgress, resp.status)
        if resp.status in (200, 400, 404) and payload is not None and "Error" in payload:
            # No cancel refusal code is published: executed, cancelled and unknown orders are told apart by a lookup.
            raise UnknownOrderAtVenue(resp.status, _error_text(payload, consumer, token))
        raise _failure(resp, payload, consumer, token)

    async def get_order(self, creds: Credentials, order: OrderRef) -> OrderSnapshot | None:
        api, consumer, token, account = self._order_context(creds, order)
        url = api + ORDER_PATH.format(account_id_key=account, order_id=order.id)
        resp = await self._signed("GET", url, consumer, token, headers=_JSON)
        if resp.status in (204, 404):  # E*TRADE answers an empty 204 where it has nothing to list
            return None
        payload = _payload(resp)
        if resp.status != 200 or payload is None or "Error" in payload:
            raise _failure(resp, payload, consumer, token)
        listed = _dig(payload, "OrdersResponse", "Order")
        for entry in listed if isinstance(listed, list) else [listed] if isinstance(listed, dict) else []:
            if str(entry.get("orderId")) == order.id:
                return _snapshot(order.id, entry)
        return None

    async def list_orders(self, creds: Credentials, query: OrderQuery) -> OrderPage:
        api, consumer, token, account = self._account_context(creds)
        params = listing_params(query)
        url = api + ORDERS_PATH.format(account_id_key=account) + "?" + urlencode(params)
        resp = await self._signed("GET", url, consumer, token, headers=_JSON)
        if resp.status == 204:
            return OrderPage(())
        payload = _payload(resp)
        if resp.status != 200 or payload is None or "Error" in payload:
            raise _failure(resp, payload, consumer, token)
        answer = payload.get("OrdersResponse") if isinstance(payload.get("OrdersResponse"), dict) else {}
        listed = answer.get("Order")
        rows = listed if isinstance(listed, list) else [listed] if isinstance(listed, dict) else []
        orders = [_snapshot(str(r.get("orderId")), r) for r in rows if isinstance(r, dict) and r.get("orderId")]
        # The filter and the dates are coarser than the query (one status, whole days): the rest is checked here.
        orders = [o for o in orders if query.statuses is None or o.status in query.statuses]
        orders = [o for o in orders if query.since is None or (o.created_at or 0) >= query.since]
        marker = answer.get("marker")
        return OrderPage(tuple(orders), {"marker": str(marker)} if marker not in (None, "") else None)

    def _order_context(self, creds: Credentials, order: OrderRef) -> tuple[str, Consumer, Token, str]:
        if not ORDER_ID_SHAPE.admits(order.id):
            raise GatewayError(
                ErrorType.invalidField,
                f"An E*TRADE order id is a number such as {ORDER_ID_SHAPE.example}.",
                error_data={"fields": {"id": "an E*TRADE order number"}},
            )
        return self._account_context(creds)

    def _account_context(self, creds: Credentials) -> tuple[str, Consumer, Token, str]:
        account = str(creds.extras.get("accountIdKey") or "")
        if not ACCOUNT_ID_KEY.fullmatch(account):
            raise GatewayError(
                ErrorType.invalidAuthToken,
                "This E*TRADE token names no account (accountIdKey).",
                display_message=_RECONNECT,
            )
        if not (CREDENTIAL_TEXT.fullmatch(creds.api_key) and CREDENTIAL_TEXT.fullmatch(creds.secret)):
            raise GatewayError(ErrorType.institutionAuthFailed, "The E*TRADE access token is malformed.")
        return self.hosts()[0], self.consumer(creds), Token(creds.api_key, creds.secret), account

    # -- signed requests -------------------------------------------------------------------------------
    async def _signed(
        self,
        method: str,
        url: str,
        consumer: Consumer,
        token: Token,
        *,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> UpstreamResponse:
        resp = await self._send(method, url, consumer, token, headers=headers, body=body)
        if resp.status != 401 or _problem(resp) not in RENEWABLE_PROBLEMS:
            return resp
        await self._renew(consumer, token)
        # The 401 means E*TRADE did nothing with the request, so sending it again cannot act twice.
        return await self._send(method, url, consumer, token, headers=headers, body=body)

    async def _renew(self, consumer: Consumer, token: Token) -> None:
        """Reactivates an idle token; one past midnight Eastern cannot be renewed, only replaced by reconnecting."""
        _, oauth, _ = self.hosts()
        try:
            resp = await self._send("GET", oauth + RENEW_TOKEN_PATH, consumer, token)
        except TransportError as exc:
            raise GatewayError(ErrorType.institutionUnavailable, f"E*TRADE could not be reached ({exc})") from None
        if resp.status == 200:
            return
        if resp.status == 401:
            raise GatewayError(
                ErrorType.institutionAuthFailed,
                "The E*TRADE access token has expired (E*TRADE ends them at midnight US Eastern time) and could not "
                f"be renewed ({_problem(resp) or 'HTTP 401'}); connect the account again.",
                display_message=_RECONNECT,
                upstream_status=401,
            )
        raise _failure(resp, _payload(resp), consumer, token)

    async def _send(
        self,
        method: str,
        url: str,
        consumer: Consumer,
        token: Token | None,
        *,
        extra: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> UpstreamResponse:
        signed = {**(headers or {}), "Authorization": authorization(method, url, consumer, token, extra=extra)}
        return await self.transport.send(method, url, headers=signed, body=body)


def listing_params(query: OrderQuery) -> dict[str, str]:
    params = {"count": str(min(query.count, LIST_MAX_COUNT))}
    marker = (query.cursor or {}).get("marker")
    if marker is not None:
        if not isinstance(marker, str) or not ACCOUNT_ID_KEY.fullmatch(marker):
            raise GatewayError(ErrorType.invalidField, "This cursor is not an E*TRADE listing cursor.",
                               error_data={"fields": {"cursor": "not from this listing"}})  # fmt: skip
        params["marker"] = marker
    if query.statuses is not None and query.statuses in LIST_STATUS_FILTERS:
        params["status"] = LIST_STATUS_FILTERS[query.statuses]
    if query.since is not None:
        # Dates are E*TRADE's (US Eastern) days; toDate is required with fromDate.
        today = datetime.now(_EASTERN)
        start = min(datetime.fromtimestamp(query.since, _EASTERN), today)
        params["fromDate"], params["toDate"] = start.strftime("%m%d%Y"), today.strftime("%m%d%Y")
    return params


def _checked_consumer(key: str, secret: str) -> Consumer:
    if not (CREDENTIAL_TEXT.fullmatch(key) and ":" not in key and CREDENTIAL_TEXT.fullmatch(secret)):
        raise GatewayError(
            ErrorType.institutionAuthFailed, "The E*TRADE consumer key or secret contains characters none has"
        )
    return Consumer(key, secret)


def _problem(resp: UpstreamResponse) -> str | None:
    match = OAUTH_PROBLEM.search(resp.body[:4096].decode("utf-8", "replace"))
    return match[1] if match else None


def _form(resp: UpstreamResponse, consumer: Consumer) -> dict[str, str]:
    """OAuth token endpoints answer form-encoded text; values arrive percent-encoded once (OAUTH_QUIRKS.md)."""
    if resp.status != 200:
        raise _failure(resp, _payload(resp), consumer, None)
    return dict(parse_qsl(resp.body.decode("utf-8", "replace").strip(), keep_blank_values=True))


def _payload(resp: UpstreamResponse) -> dict[str, Any] | None:
    """JSON as asked for; E*TRADE's XML Error envelope is read too, since some error paths ignore Accept."""
    text = resp.body.strip()
    if not text:
        return None
    try:
        value = json.loads(text)
        return value if isinstance(value, dict) else None
    except ValueError:
        pass
    try:
        root = ET.fromstring(text)  # noqa: S314 - a venue answer, size-bounded by the transport; no entities used
    except ET.ParseError:
        return None
    if root.tag != "Error":
        return None
    return {"Error": {child.tag: (child.text or "") for child in root}}


def _dig(payload: dict[str, Any], *names: str) -> Any:
    value: Any = payload
    for name in names:
        value = value.get(name) if isinstance(value, dict) else None
    return value


def _error_text(payload: dict[str, Any], consumer: Consumer, token: Token | None) -> str:
    error = payload.get("Error")
    if not isinstance(error, dict):
        return "error"
    text = f"{error.get('code', '')} {error.get('message', '')}".strip()
    return _scrubbed(text, consumer, token)


def _scrubbed(text: str, consumer: Consumer, token: Token | None) -> str:
    creds = Credentials(IntegrationType.eTrade, api_key=consumer.key, secret=consumer.secret)
    return scrub(text, creds, token.key if token else None, token.secret if token else None)


def _failure(
    resp: UpstreamResponse, payload: dict[str, Any] | None, consumer: Consumer, token: Token | None
) -> GatewayError:
    if resp.status == 429:
        retry = str(resp.headers.get("Retry-After") or resp.headers.get("retry-after") or "").strip()
        return GatewayError(
            ErrorType.rateLimited,
            "E*TRADE answered HTTP 429",
            retry_after=max(1, int(retry)) if retry.isdigit() else RATE_LIMIT_DEFAULT_S,
            upstream_status=429,
        )
    if resp.status == 401:
        problem = _problem(resp)
        return GatewayError(
            ErrorType.institutionAuthFailed,
            f"E*TRADE refused the credentials ({problem or 'HTTP 401'})",
            display_message=_RECONNECT,
            upstream_status=401,
        )
    if resp.status == 403:
        detail = f": {_error_text(payload, consumer, token)}" if payload else ""
        return GatewayError(
            ErrorType.institutionPermissionDenied,
            f"E*TRADE refused the request for this account (HTTP 403){detail}",
            upstream_status=403,
        )
    if payload is not None and "Error" in payload and 400 <= resp.status < 500:
        return GatewayError(
            ErrorType.institutionRejected,
            f"E*TRADE answered HTTP {resp.status}: {_error_text(payload, consumer, token)}",
            upstream_status=resp.status,
        )
    readable = "" if payload is not None else " with an unreadable body"
    return GatewayError(
        ErrorType.institutionUnavailable, f"E*TRADE answered HTTP {resp.status}{readable}", upstream_status=resp.status
    )


def _snapshot(order_id: str, entry: dict[str, Any]) -> OrderSnapshot:
    details = entry.get("OrderDetail")
    detail = (details[0] if isinstance(details, list) and details else details) or {}
    instruments = detail.get("Instrument") if isinstance(detail, dict) else None
    instrument = (instruments[0] if isinstance(instruments, list) and instruments else instruments) or {}
    venue_status = str(detail.get("status") or "")
    ordered, filled = number(instrument.get("orderedQuantity")), number(instrument.get("filledQuantity"))
    status = STATUS_MAP.get(venue_status, OrderStatus.unknown)
    if venue_status == "OPEN" and filled:
        status = OrderStatus.partiallyFilled
    action = str(instrument.get("orderAction") or "")
    side = OrderSide.buy if action in BUY_ACTIONS else OrderSide.sell if action.startswith("SELL") else None
    product = instrument.get("Product") or {}
    average = number(instrument.get("averageExecutionPrice"))
    placed = number(detail.get("placedTime"))
    executed = number(detail.get("executedTime"))
    return OrderSnapshot(
        order_id,
        status,
        venue_status,
        ordered,
        filled,
        side=side,
        symbol=str(product.get("symbol") or "") or None,
        payment_symbol="USD",
        symbol_pair=None,
        price=number(detail.get("limitPrice")) or average,
        fee=number(instrument.get("estimatedCommission")),
        value=filled * average if filled is not None and average is not None else None,
        order_type=ORDER_TYPE_MAP.get(str(detail.get("priceType") or "")),
        time_in_force=TIME_IN_FORCE_MAP.get(str(detail.get("orderTerm") or "")),
        created_at=int(placed / 1000) if placed else None,
        updated_at=int(executed / 1000) if executed else (int(placed / 1000) if placed else None),
    )
