"""Request bodies → models, with every failure a 400 envelope naming the offending fields."""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import ClientDisconnect, Request

from ordergate.domain.errors import ErrorType, GatewayError

M = TypeVar("M", bound=BaseModel)
_MISSING_TYPES = frozenset({"missing"})
_SURROGATE = re.compile("[\ud800-\udfff]")


def _invalid(fields: dict[str, str], message: str) -> GatewayError:
    return GatewayError(ErrorType.invalidField, message, error_data={"fields": fields})


async def read_json_object(request: Request, limit: int) -> dict[str, Any]:
    ctype = request.headers.get("content-type", "")
    media = ctype.split(";", 1)[0].strip().lower()
    if media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
        raise _invalid({"Content-Type": "must be application/json"}, "The request body must be JSON.")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise _invalid({"body": f"larger than {limit} bytes"}, f"The request body exceeds {limit} bytes.")
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise _invalid({"body": f"larger than {limit} bytes"}, f"The request body exceeds {limit} bytes.")
    except ClientDisconnect:
        raise _invalid({"body": "incomplete"}, "The request body was not received completely.") from None
    try:
        # RFC 8259: JSON between systems is UTF-8 (json.loads would otherwise guess UTF-16/32 from the bytes).
        data = json.loads(bytes(body).decode("utf-8"), object_pairs_hook=_no_duplicate_keys)
    except _DuplicateKey as dup:
        raise _invalid({dup.key[:64]: "given more than once"}, "A property appears more than once.") from None
    except (ValueError, RecursionError):
        raise _invalid({"body": "not valid JSON"}, "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise _invalid({"body": "must be a JSON object"}, "The request body must be a JSON object.")
    # Only a `\u` escape can produce a lone surrogate (the bytes were strict UTF-8), so most bodies skip the walk.
    if b"\\u" in body and (where := _lone_surrogate(data, "")) is not None:
        raise UnencodableBody(where, data)
    return data


class UnencodableBody(GatewayError):
    """A 400 that still carries the parsed body, so the audit row can record what was sent (escaped)."""

    def __init__(self, where: str, data: dict[str, Any]) -> None:
        super().__init__(
            ErrorType.invalidField,
            "The request body contains a string that is not valid Unicode.",
            error_data={"fields": {where[:64] or "body": "contains a lone surrogate (\\ud800-\\udfff)"}},
        )
        self.data = data


def _lone_surrogate(value: Any, path: str) -> str | None:
    """The path of the first key or string holding a lone surrogate: such a string cannot be encoded as UTF-8,
    so it could be neither audited, fingerprinted nor sent to a venue."""
    if isinstance(value, str):
        return path if _SURROGATE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if _SURROGATE.search(key):
                return path or "body"
            found = _lone_surrogate(item, f"{path}.{key}" if path else key)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _lone_surrogate(item, f"{path}.{index}" if path else str(index))
            if found is not None:
                return found
    return None


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # {"id": "a", "id": "b"} means two different things to two JSON parsers; refuse it rather than guess.
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _canonical_keys(data: dict[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    # Mesh's ASP.NET server matches property names case-insensitively (`isCryptoCurrency` works there).
    names = {(info.alias or name).lower(): info.alias or name for name, info in model.model_fields.items()}
    out: dict[str, Any] = {}
    for key, value in data.items():
        canonical = names.get(key.lower(), key) if isinstance(key, str) else key
        if canonical in out and canonical != key:
            continue  # the exact spelling wins over a case variant
        out[canonical] = value
    return out


def validate(model: type[M], data: dict[str, Any]) -> M:
    data = _canonical_keys(data, model)
    # A required field sent as null is as missing as an absent one.
    for name, info in model.model_fields.items():
        name = info.alias or name
        if info.is_required() and name in data and data[name] is None:
            del data[name]
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(exc) from None


def _validation_error(exc: ValidationError) -> GatewayError:
    missing: dict[str, str] = {}
    invalid: dict[str, str] = {}
    for err in exc.errors(include_url=False, include_input=False):
        field = ".".join(str(p) for p in err["loc"]) or "body"
        if err["type"] in _MISSING_TYPES:
            missing[field] = "required"
        elif field in {"authToken", "id"} and err["type"] == "string_too_short":
            missing[field] = "required (must not be empty)"
        else:
            invalid[field] = _describe(err)
    if missing:
        fields = {**missing, **invalid}
        return GatewayError(
            ErrorType.missingField,
            f"Missing required field(s): {', '.join(missing)}.",
            error_data={"fields": fields},
        )
    return _invalid(invalid, f"Invalid field(s): {', '.join(invalid)}.")


def _describe(err: Any) -> str:
    if err["type"] == "string_pattern_mismatch":
        return "must not contain control characters"
    if err["type"] == "enum":
        expected = err.get("ctx", {}).get("expected", "")
        return "unknown value" + (f"; expected one of {expected}" if len(expected) < 300 else "")
    return str(err["msg"])
