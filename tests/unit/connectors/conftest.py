"""Fixtures shared by the connector tests that check each documented request strictly.

``api`` fails a test whose mocked routes are not all called. Test modules that mock
more than one test calls define their own ``api`` (``assert_all_called=False``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import respx


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    """The networks' HTTP APIs, mocked; every route a test sets up must be called."""
    with respx.mock(assert_all_called=True) as router:
        yield router


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """A plain HTTP client for the connector under test."""
    async with httpx.AsyncClient() as client:
        yield client
