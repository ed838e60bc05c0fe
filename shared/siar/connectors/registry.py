"""Builds the connectors a process uses, by network name."""

from __future__ import annotations

from typing import Any

import httpx
from pymongo import AsyncMongoClient

from siar.connectors.base import Connector
from siar.connectors.bluesky import BlueskyConnector
from siar.connectors.facebook import FacebookPagesConnector
from siar.connectors.http import HttpConnector
from siar.connectors.instagram import InstagramConnector
from siar.connectors.linkedin import LinkedInConnector
from siar.connectors.mastodon import MastodonConnector
from siar.connectors.media_host import ItemUrlHost
from siar.connectors.pinterest import PinterestConnector
from siar.connectors.sandbox import SandboxConnector
from siar.connectors.threads import ThreadsConnector
from siar.connectors.tiktok import TikTokConnector
from siar.connectors.x import XConnector
from siar.connectors.youtube import YouTubeConnector

NETWORK_CONNECTORS: tuple[type[HttpConnector], ...] = (
    FacebookPagesConnector,
    InstagramConnector,
    ThreadsConnector,
    XConnector,
    LinkedInConnector,
    TikTokConnector,
    YouTubeConnector,
    PinterestConnector,
    MastodonConnector,
    BlueskyConnector,
)
"""Every real network, each built from its documented HTTP API."""


def build_connectors(
    mongo: AsyncMongoClient[dict[str, Any]],
    http: httpx.AsyncClient,
    *,
    sandbox_comment_delay_s: float = 1.0,
) -> dict[str, Connector]:
    """Every connector available in this build, keyed by network name."""
    connectors: dict[str, Connector] = {cls.network: cls(http) for cls in NETWORK_CONNECTORS}
    # Meta pulls Instagram images and Threads media from the signed URL the media
    # library gives each item.
    connectors["instagram"] = InstagramConnector(http, media_host=ItemUrlHost())
    connectors["threads"] = ThreadsConnector(http, media_host=ItemUrlHost())
    connectors["sandbox"] = SandboxConnector(mongo, comment_delay_s=sandbox_comment_delay_s)
    return connectors
