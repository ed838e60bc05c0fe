"""The networks' content rules, read-only: what the console's composer counts and checks.

The same :class:`~siar.connectors.rules.ContentRules` the scheduler enforces when a post is
created (``siar.connectors.validation``), so the composer's live counts and warnings agree
with the 422 the API would answer. Rules are facts about the networks, not workspace data:
any signed-in caller may read them.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from siar.connectors.base import Connector
from siar.connectors.registry import NETWORK_CONNECTORS
from siar.connectors.rules import Capability, MediaLimits
from siar.connectors.sandbox import SandboxConnector
from siar.connectors.x import XConnector
from siar.connectors.x_text import TRANSFORMED_URL_LENGTH
from siar.runtime.auth import CurrentPrincipal

router = APIRouter(tags=["networks"])

Counting = Literal["code_points", "graphemes", "twitter_text"]


class MediaRules(BaseModel):
    """Limits on one kind of media."""

    mime_types: list[str]
    max_bytes: int
    min_aspect: float | None
    max_aspect: float | None
    max_duration_s: float | None
    min_duration_s: float | None


class NetworkRules(BaseModel):
    """One network's content rules."""

    network: str
    display_name: str
    max_text_chars: int
    counting: Counting = Field(
        description="How text length is counted: code points, grapheme clusters, or X's "
        "twitter-text weights (URLs count url_length, CJK and emoji 2)."
    )
    url_length: int | None = Field(description="What a URL counts for (twitter_text only).")
    max_hashtags: int | None
    max_mentions: int | None
    max_media: int
    requires_media: bool
    formats: list[str]
    image: MediaRules | None
    video: MediaRules | None
    max_title_chars: int | None
    max_thread_parts: int | None
    first_comment: bool = Field(
        description="Whether a post may carry a first comment (the network takes comments)."
    )


class NetworkList(BaseModel):
    """Every network's rules."""

    items: list[NetworkRules]


def _media(limits: MediaLimits | None) -> MediaRules | None:
    if limits is None:
        return None
    return MediaRules(
        mime_types=sorted(limits.mime_types),
        max_bytes=limits.max_bytes,
        min_aspect=limits.min_aspect,
        max_aspect=limits.max_aspect,
        max_duration_s=limits.max_duration_s,
        min_duration_s=limits.min_duration_s,
    )


def rules_of(cls: type[Connector]) -> NetworkRules:
    """``cls``'s rules as shown (its class attributes: no connector is built)."""
    rules = cls.rules
    # X is the one network that weighs characters (its measure_text); the others count
    # code points or, where the rules say so, grapheme clusters.
    weighted = issubclass(cls, XConnector)
    counting: Counting = (
        "twitter_text" if weighted else "graphemes" if rules.counts_graphemes else "code_points"
    )
    return NetworkRules(
        network=cls.network,
        display_name=cls.display_name,
        max_text_chars=rules.max_text_chars,
        counting=counting,
        url_length=TRANSFORMED_URL_LENGTH if weighted else None,
        max_hashtags=rules.max_hashtags,
        max_mentions=rules.max_mentions,
        max_media=rules.max_media,
        requires_media=rules.requires_media,
        formats=sorted(f.value for f in rules.formats),
        image=_media(rules.image),
        video=_media(rules.video),
        max_title_chars=rules.max_title_chars,
        max_thread_parts=rules.max_thread_parts,
        first_comment=bool(cls.capabilities & {Capability.FIRST_COMMENT, Capability.REPLY}),
    )


def all_rules() -> list[NetworkRules]:
    """Every network the platform posts to, the sandbox last."""
    classes: list[type[Connector]] = [*NETWORK_CONNECTORS, SandboxConnector]
    return [rules_of(cls) for cls in classes]


@router.get("/v1/networks", summary="Each network's content rules (for composing)")
async def networks(_: CurrentPrincipal) -> NetworkList:
    return NetworkList(items=all_rules())
