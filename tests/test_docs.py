"""The README's generated tables are what the code says."""

from pathlib import Path

from ordergate.docs import render
from ordergate.domain.errors import CATALOGUE, ErrorType
from ordergate.venues.catalog import SPECS
from ordergate.venues.registry import ADAPTERS

README = Path(__file__).parents[1] / "README.md"


def test_readme_generated_blocks_are_current() -> None:
    text = README.read_text()
    assert render(text) == text, "run: .venv/bin/python -m ordergate.docs"


def test_catalogue_covers_every_error_type() -> None:
    assert set(CATALOGUE) == set(ErrorType)


def test_every_venue_claiming_cancel_has_an_adapter() -> None:
    assert len(SPECS) == 57
    for spec in SPECS.values():
        assert spec.cancel_supported == (spec.family in ADAPTERS), spec.type
