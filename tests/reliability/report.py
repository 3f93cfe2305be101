"""Counts that reliability tests record; `make reliability` renders them into RELIABILITY.md."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

OUT = Path(os.environ.get("ORDERGATE_RELIABILITY_OUT", Path(__file__).parents[2] / "build" / "reliability.json"))


def _load() -> dict[str, dict[str, Any]]:
    try:
        return json.loads(OUT.read_text())
    except (OSError, ValueError):
        return {}


def _save(data: dict[str, dict[str, Any]]) -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, indent=2, sort_keys=True))


def record(section: str, **figures: Any) -> None:
    data = _load()
    data[section] = figures
    _save(data)


def count(section: str, **increments: int) -> None:
    data = _load()
    current = data.setdefault(section, {})
    for key, value in increments.items():
        current[key] = current.get(key, 0) + value
    _save(data)
