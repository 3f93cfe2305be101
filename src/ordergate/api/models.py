"""Request models, field for field as Mesh's OpenAPI document defines them."""

from __future__ import annotations

import base64
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.integrations import IntegrationType, OrderSide, OrderStatus
from ordergate.tokens import MAX_TOKEN_CHARS

# No control characters (NUL, CR, LF, C1 controls such as NEL, Unicode line separators): no venue id, key or code
# contains them, and they are how headers and logs get injected.
_PRINTABLE = r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$"
NonEmpty = Annotated[str, StringConstraints(min_length=1, max_length=4096, pattern=_PRINTABLE)]
# As long as the longest token `/authenticate` can hand out (tokens.MAX_TOKEN_CHARS).
Token = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TOKEN_CHARS, pattern=_PRINTABLE)]
Optional = Annotated[str, StringConstraints(max_length=4096, pattern=_PRINTABLE)]
# Secrets may be PEM files (Coinbase CDP keys), whose lines are separated by newlines; other controls stay out.
Secret = Annotated[str, StringConstraints(max_length=8192, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")]


class _Strict(BaseModel):
    # Mesh's server (ASP.NET) ignores unknown properties; we do too, so existing clients keep working.
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class TransactionsB2BBrokerOrderRequest(_Strict):
    authToken: Token
    type: IntegrationType = Field(strict=False)
    id: NonEmpty
    isCryptocurrency: bool
    side: OrderSide | None = Field(default=None, strict=False)
    symbolPair: Optional | None = None
    mfaCode: Optional | None = None


class TransactionsBrokerBaseRequest(_Strict):
    authToken: Token
    type: IntegrationType = Field(strict=False)


# Mesh: "Default: `100`, Maximum: `250`"; `from` is an int64 of Unix seconds.
LIST_COUNT_DEFAULT, LIST_COUNT_MAX = 100, 250
_INT64_MAX = 2**63 - 1


class TransactionsB2BBrokerOrderListRequest(_Strict):
    authToken: Token
    type: IntegrationType = Field(strict=False)
    cursor: Optional | None = None
    count: int = Field(default=LIST_COUNT_DEFAULT, ge=1, le=LIST_COUNT_MAX)
    statuses: list[Annotated[OrderStatus, Field(strict=False)]] | None = Field(default=None, max_length=64)
    from_: int | None = Field(default=None, alias="from", ge=0, le=_INT64_MAX)
    # ordergate extension (not in Mesh's model): the pair, for venues that list one instrument at a time.
    symbolPair: Optional | None = None


class B2BBrokerAuthRequest(_Strict):
    type: IntegrationType = Field(strict=False)
    username: Optional | None = None
    password: Secret | None = None
    authToken: Optional | None = None
    mfaCode: Optional | None = None
    # Multi-step connects (Mesh's shape): the challengeId a previous answer handed out, and the user's answer to it
    # (E*TRADE's OAuth verifier, a broker's verification code).
    challengeId: Optional | None = None
    challengeCode: Optional | None = None
    isSensitiveFieldsEncrypted: bool | None = None

    def decoded(self) -> B2BBrokerAuthRequest:
        """Mesh's "encrypted" sensitive fields are Base64; decode them when the flag says so."""
        if not self.isSensitiveFieldsEncrypted:
            return self
        decoded: dict[str, str | None] = {}
        for name in ("username", "password", "mfaCode"):
            value = getattr(self, name)
            try:
                decoded[name] = base64.b64decode(value, validate=True).decode() if value else value
            except ValueError:  # binascii.Error, UnicodeDecodeError and non-ASCII input are all ValueErrors
                raise GatewayError(
                    ErrorType.invalidField,
                    f"{name} is not Base64 although isSensitiveFieldsEncrypted is true.",
                    error_data={"fields": {name: "not Base64"}},
                ) from None
        return self.model_copy(update=decoded)


class BrokerRefreshTokenRequest(_Strict):
    type: IntegrationType = Field(strict=False)
    # API-key venues: the authToken itself (its credentials do not expire; a refresh re-seals them).
    refreshToken: NonEmpty
    createNewRefreshToken: bool | None = None
    accessToken: Optional | None = None
    tradeToken: Optional | None = None
    mfaCode: Optional | None = None
    metadata: dict[str, Optional | None] | None = None
