"""A post is checked against each network's own rules, and told which it breaks."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pymongo import AsyncMongoClient

from siar.connectors import Connector, MediaItem, MediaKind, PostFormat
from siar.connectors.registry import build_connectors
from siar.connectors.validation import Draft, validate


@pytest.fixture
async def nets() -> AsyncIterator[dict[str, Connector]]:
    mongo: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=1", connect=False
    )
    async with httpx.AsyncClient() as http:
        yield build_connectors(mongo, http)
    await mongo.close()


def rules_broken(connector: Connector, draft: Draft) -> list[str]:
    return [v.rule for v in validate(connector, draft)]


async def test_a_short_plain_post_fits_everywhere_text_is_enough(
    nets: dict[str, Connector],
) -> None:
    for name in ("x", "mastodon", "bluesky", "linkedin", "sandbox"):
        assert validate(nets[name], Draft(text="Hello #siar")) == [], name


async def test_x_counts_weighted_characters(nets: dict[str, Connector]) -> None:
    x = nets["x"]
    assert rules_broken(x, Draft(text="a" * 280)) == []
    # 140 CJK characters weigh 280; one more goes over.
    assert rules_broken(x, Draft(text="漢" * 140)) == []
    [violation] = validate(x, Draft(text="漢" * 141))
    assert violation.rule == "text.length"
    assert violation.network == "x"
    assert "282" in violation.message


async def test_bluesky_counts_graphemes_not_code_points(nets: dict[str, Connector]) -> None:
    family = "👨\u200d👩\u200d👧"  # one grapheme, five code points
    assert rules_broken(nets["bluesky"], Draft(text=family * 300)) == []
    assert rules_broken(nets["bluesky"], Draft(text=family * 301)) == ["text.length"]


async def test_media_rules_name_the_network_and_the_rule(nets: dict[str, Connector]) -> None:
    sandbox = nets["sandbox"]
    tiff = MediaItem(kind=MediaKind.IMAGE, mime_type="image/tiff", size_bytes=20 * 1_048_576)
    found = validate(sandbox, Draft(text="hi", media=(tiff,)))
    assert {v.rule for v in found} == {"media.type", "media.size"}
    assert all("Sandbox" in v.message for v in found)
    wide = MediaItem(
        kind=MediaKind.IMAGE, mime_type="image/png", size_bytes=1000, width=3000, height=1000
    )
    assert rules_broken(sandbox, Draft(text="hi", media=(wide,))) == ["media.aspect_ratio"]
    five = tuple(
        MediaItem(kind=MediaKind.IMAGE, mime_type="image/png", size_bytes=10) for _ in range(5)
    )
    assert rules_broken(sandbox, Draft(text="hi", media=five)) == ["media.count"]


async def test_formats_and_required_media(nets: dict[str, Connector]) -> None:
    assert "format" in rules_broken(nets["sandbox"], Draft(text="hi", format=PostFormat.REEL))
    assert "media.required" in rules_broken(nets["pinterest"], Draft(text="a pin"))


async def test_too_many_hashtags(nets: dict[str, Connector]) -> None:
    tags = " ".join(f"#t{i}" for i in range(31))
    assert rules_broken(nets["sandbox"], Draft(text=tags)) == ["text.hashtags"]
