"""`json` decoding without the Python layers around the C scanner, for the bodies on every cancel's path."""

from __future__ import annotations

import json
from collections.abc import Callable
from json.scanner import make_scanner
from typing import Any


def fast_loads(decoder: json.JSONDecoder) -> Callable[[str], Any]:
    """`decoder.decode`, with the same results and errors. `decode` matches a whitespace regex before and after
    the value and goes through two Python methods; a body without surrounding whitespace (what clients and
    venues send) is one call of the scanner, and anything else goes to `decode` itself."""
    scan = make_scanner(decoder)  # type: ignore[arg-type]  # typeshed types it as the class, not the C function
    decode = decoder.decode

    def loads(text: str) -> Any:
        try:
            value, end = scan(text, 0)
        except StopIteration:
            return decode(text)  # leading whitespace, or no JSON value: `decode` skips it or words the error
        if end != len(text):
            return decode(text)  # trailing whitespace or extra data
        return value

    return loads


loads = fast_loads(json.JSONDecoder())


def loads_bytes(body: bytes) -> Any:
    """`json.loads(body)` for an answer read off the wire, with the same results and errors."""
    if body[:1] == b"{" and body[1:2] != b"\x00":  # what json.detect_encoding takes for UTF-8
        return loads(body.decode("utf-8", "surrogatepass"))
    return json.loads(body)
