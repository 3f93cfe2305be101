"""E*TRADE's XML, for the simulator: the same documents as its JSON, element per key, a list as repeated elements
(what xmltodict reads back on the client side, and what jxmlease writes)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any


def to_xml(payload: dict[str, Any]) -> bytes:
    (name, value), *_ = payload.items()
    root = ET.Element(name)
    _fill(root, value)
    return b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' + ET.tostring(root)


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            for item in child if isinstance(child, list) else [child]:
                _fill(ET.SubElement(element, key), item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)


def from_xml(raw: bytes) -> dict[str, Any]:
    """Element → text, or a dict of its children (a repeated child becomes a list). Raises ValueError."""
    try:
        root = ET.fromstring(raw)  # noqa: S314 - test-only simulator input; expat expands no external entities
    except ET.ParseError as exc:
        raise ValueError(str(exc)) from None
    return {root.tag: _read(root)}


def _read(element: ET.Element) -> Any:
    children = list(element)
    if not children:
        return (element.text or "").strip()
    result: dict[str, Any] = {}
    for child in children:
        value = _read(child)
        if child.tag in result:
            existing = result[child.tag]
            result[child.tag] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            result[child.tag] = value
    return result
