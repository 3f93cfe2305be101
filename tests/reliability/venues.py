"""Every venue on the conformance kit, found by importing tests/venues/test_*_conformance.py."""

from __future__ import annotations

import importlib
from pathlib import Path

from tests.venues.kit import VenueConformance


def kit_venues() -> list[type[VenueConformance]]:
    found: dict[str, type[VenueConformance]] = {}
    for path in sorted((Path(__file__).parents[1] / "venues").glob("test_*_conformance.py")):
        module = importlib.import_module(f"tests.venues.{path.stem}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, VenueConformance) and value is not VenueConformance:
                found[value.integration.value] = value
    return [found[name] for name in sorted(found)]
