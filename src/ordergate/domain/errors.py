"""The errorType catalogue and the one exception hierarchy every layer raises.

Every failure a client can see is an `ErrorType`: its Mesh envelope status, its HTTP status and its meaning
are data here, so the README table and the OpenAPI description are rendered from this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ordergate.domain.integrations import ApiResultStatus as S


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    status: S
    http_status: int
    meaning: str


class ErrorType(StrEnum):
    missingField = "missingField"
    invalidField = "invalidField"
    invalidClientCredentials = "invalidClientCredentials"
    insufficientScope = "insufficientScope"
    invalidAuthToken = "invalidAuthToken"
    idempotencyKeyReused = "idempotencyKeyReused"
    idempotencyKeyInFlight = "idempotencyKeyInFlight"
    routeNotFound = "routeNotFound"
    methodNotAllowed = "methodNotAllowed"
    cancelNotSupported = "cancelNotSupported"
    authenticationNotSupported = "authenticationNotSupported"
    listingNotSupported = "listingNotSupported"
    cancelAfterNotSupported = "cancelAfterNotSupported"
    orderNotFound = "orderNotFound"
    orderNotCancelable = "orderNotCancelable"
    mfaRequired = "mfaRequired"
    mfaInvalid = "mfaInvalid"
    institutionAuthFailed = "institutionAuthFailed"
    institutionPermissionDenied = "institutionPermissionDenied"
    institutionRejected = "institutionRejected"
    rateLimited = "rateLimited"
    institutionLocked = "institutionLocked"
    institutionRestricted = "institutionRestricted"
    institutionUnavailable = "institutionUnavailable"
    cancelOutcomeUnknown = "cancelOutcomeUnknown"
    serviceUnavailable = "serviceUnavailable"
    internalError = "internalError"

    @property
    def info(self) -> ErrorInfo:
        return CATALOGUE[self]


CATALOGUE: dict[ErrorType, ErrorInfo] = {
    ErrorType.missingField: ErrorInfo(
        S.badRequest, 400, "A required request field is absent or null; `errorData.fields` names each one."
    ),
    ErrorType.invalidField: ErrorInfo(
        S.badRequest,
        400,
        "A field has the wrong type, an unknown enum value or breaks a constraint, or the body is not a JSON "
        "object (malformed, wrong content type, over 64 KiB); `errorData.fields` names each offending field.",
    ),
    ErrorType.invalidClientCredentials: ErrorInfo(
        S.permissionDenied,
        401,
        "`X-Client-Id` / `X-Client-Secret` missing, wrong, or the client is disabled.",
    ),
    ErrorType.insufficientScope: ErrorInfo(
        S.permissionDenied, 403, "The API client lacks the scope this endpoint needs (`write` for cancel)."
    ),
    ErrorType.invalidAuthToken: ErrorInfo(
        S.permissionDenied,
        401,
        "The authToken cannot be opened: altered, sealed for another API client or integration type, or "
        "sealed with a key that is no longer configured.",
    ),
    ErrorType.idempotencyKeyReused: ErrorInfo(
        S.badRequest, 422, "This Idempotency-Key was used by this client for a different request in the last 24 h."
    ),
    ErrorType.idempotencyKeyInFlight: ErrorInfo(
        S.conflict, 409, "A request with this Idempotency-Key is still being processed; retry after it finishes."
    ),
    ErrorType.routeNotFound: ErrorInfo(S.notFound, 404, "No such endpoint."),
    ErrorType.methodNotAllowed: ErrorInfo(S.badRequest, 405, "The endpoint exists but not for this method."),
    ErrorType.cancelNotSupported: ErrorInfo(
        S.badRequest, 400, "ordergate has no cancel adapter for this integration type (`errorData.type`)."
    ),
    ErrorType.authenticationNotSupported: ErrorInfo(
        S.badRequest, 400, "ordergate cannot connect accounts of this integration type by API key."
    ),
    ErrorType.listingNotSupported: ErrorInfo(
        S.badRequest,
        400,
        "ordergate cannot list orders for this integration type (`errorData.type`); `/transactions/list` only.",
    ),
    ErrorType.cancelAfterNotSupported: ErrorInfo(
        S.badRequest,
        400,
        "The venue has no cancel-all-after timer (dead-man's switch) for ordergate to arm (`errorData.type`).",
    ),
    ErrorType.orderNotFound: ErrorInfo(
        S.notFound, 404, "The venue has no order with this id for this account (checked by an order lookup)."
    ),
    ErrorType.orderNotCancelable: ErrorInfo(
        S.conflict,
        409,
        "The order exists but is final; `errorData.orderStatus` says why in Mesh order status values "
        "(`success` = filled, `cancelled`, `rejected`, `expired`).",
    ),
    ErrorType.mfaRequired: ErrorInfo(
        S.badRequest, 400, "The venue key requires a one-time code: repeat the request with `mfaCode`."
    ),
    ErrorType.mfaInvalid: ErrorInfo(S.permissionDenied, 403, "The venue rejected the `mfaCode`."),
    ErrorType.institutionAuthFailed: ErrorInfo(
        S.permissionDenied, 401, "The venue rejected the API key or its signature."
    ),
    ErrorType.institutionPermissionDenied: ErrorInfo(
        S.permissionDenied, 403, "The venue key is valid but lacks the permission to trade or cancel."
    ),
    ErrorType.institutionRejected: ErrorInfo(
        S.badRequest, 400, "The venue refused the request's arguments (e.g. a malformed order id)."
    ),
    ErrorType.rateLimited: ErrorInfo(
        S.tooManyRequest,
        429,
        "Rate limited: by ordergate (per API client), or by the venue — after which ordergate stops using that "
        "venue key until the venue's `Retry-After` has passed. Wait `Retry-After` seconds.",
    ),
    ErrorType.institutionLocked: ErrorInfo(
        S.locked,
        423,
        "The venue has locked out or banned this key for a while; ordergate does not call the venue with it again "
        "before `Retry-After` has passed.",
    ),
    ErrorType.institutionRestricted: ErrorInfo(
        S.unavailableForLegalReasons, 451, "The venue refuses service for legal or regional reasons."
    ),
    ErrorType.institutionUnavailable: ErrorInfo(
        S.serverFailure,
        502,
        "The venue failed (5xx, maintenance, an unreadable answer) or could not be reached; the cancel did not "
        "take effect as far as the venue shows.",
    ),
    ErrorType.cancelOutcomeUnknown: ErrorInfo(
        S.serverFailure,
        504,
        "The cancel was sent but its outcome could not be established, even after looking the order up. "
        "Check the order with the venue before acting on it.",
    ),
    ErrorType.serviceUnavailable: ErrorInfo(
        S.serverFailure,
        503,
        "ordergate's own database or Redis is unreachable; nothing was sent to the institution. Retry shortly.",
    ),
    ErrorType.internalError: ErrorInfo(S.serverFailure, 500, "A bug in ordergate; the request id is logged."),
}


class GatewayError(Exception):
    """Anything that ends a request with a non-`ok` envelope. Messages never carry credentials."""

    def __init__(
        self,
        error_type: ErrorType,
        message: str,
        *,
        display_message: str | None = None,
        error_data: dict[str, Any] | None = None,
        retry_after: float | None = None,
        upstream_status: int | None = None,
        unprocessed: bool = False,
    ) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.display_message = display_message
        self.error_data = error_data
        self.retry_after = retry_after
        self.upstream_status = upstream_status
        # The venue said it did not act on the request (an expired session, say): no lookup can change the answer.
        self.unprocessed = unprocessed

    @property
    def http_status(self) -> int:
        return self.error_type.info.http_status


class UnknownOrderAtVenue(Exception):
    """The venue answered "unknown order" (or an equivalent that also covers filled/cancelled orders).

    Never shown to a client as such: the cancel service looks the order up and answers 404 or 409.
    """

    def __init__(self, upstream_status: int | None = None, venue_message: str = "") -> None:
        super().__init__(venue_message)
        self.upstream_status = upstream_status
        self.venue_message = venue_message
