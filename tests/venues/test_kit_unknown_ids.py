"""The kit's never-issued ids keep the venue's shape, including the signed 64-bit range of numeric ids."""

from __future__ import annotations

import pytest

from tests.venues.kit import _unknown_like

INT64_MAX = 2**63 - 1


@pytest.mark.parametrize(
    "issued",
    ["9223372036854775806", "9200000000000000000", "9199999999999999999", "9000000000000000000", "1000000000000000000"],
)
def test_a_numeric_id_stays_a_different_int64_of_its_length(issued: str) -> None:
    unknown = _unknown_like(issued)
    assert unknown != issued and len(unknown) == len(issued) and unknown[0] == issued[0]
    assert unknown.isdigit() and int(unknown) <= INT64_MAX


@pytest.mark.parametrize(
    ("issued", "unknown"),
    [
        ("4000000001", "4777777777"),
        ("OQCLML-BW3P3-BUCMWZ", "OREQQQ-EQ7Q7-EQEQQQ"),
        ("5bd6e9286d99522a52e458de", "5ee7d7777e77777e77d777ed"),
    ],
)
def test_other_shapes_swap_each_character_within_its_class(issued: str, unknown: str) -> None:
    assert _unknown_like(issued) == unknown
