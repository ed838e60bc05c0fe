"""Markers by folder: unit beside services, integration/contracts/e2e/browser under tests/."""

from __future__ import annotations

import pytest

_KINDS = ("integration", "contracts", "e2e", "browser")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Apply the marker of the folder a test lives in (unit by default)."""
    for item in items:
        parts = item.path.parts
        kind = next((k for k in _KINDS if "tests" in parts and k in parts), "unit")
        item.add_marker(getattr(pytest.mark, kind))
