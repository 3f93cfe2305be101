"""Fixtures every venue's adapter tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ordergate.venues.transport import Transport


@pytest.fixture(scope="module")
async def transport() -> AsyncIterator[Transport]:
    """One pooled HTTP client per test module, as the gateway has one per process."""
    transport = Transport(timeout_s=5.0)
    await transport.start()
    yield transport
    await transport.close()
