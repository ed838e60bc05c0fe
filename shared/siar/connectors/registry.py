"""Builds the connectors a process uses, by network name."""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient

from siar.connectors.base import Connector
from siar.connectors.sandbox import SandboxConnector


def build_connectors(
    mongo: AsyncMongoClient[dict[str, Any]], *, sandbox_comment_delay_s: float = 1.0
) -> dict[str, Connector]:
    """Every connector available in this build, keyed by network name."""
    return {"sandbox": SandboxConnector(mongo, comment_delay_s=sandbox_comment_delay_s)}
