from collections.abc import Iterator

import pytest

from tests.reliability import report


@pytest.fixture(scope="session", autouse=True)
def _fresh_report() -> Iterator[None]:
    report.OUT.unlink(missing_ok=True)
    yield
