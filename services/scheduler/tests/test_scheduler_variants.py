"""Per-network variants: each target is checked on what it really gets, and fired with it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from siar.connectors import Connector, MediaItem
from siar.connectors.bluesky import BlueskyConnector
from siar.connectors.facebook import FacebookPagesConnector
from siar.connectors.instagram import InstagramConnector
from siar.connectors.pinterest import PinterestConnector
from siar.connectors.rules import MediaKind
from siar.connectors.sandbox import SandboxConnector
from siar.connectors.x import XConnector
from siar.connectors.youtube import YouTubeConnector
from siar.contracts import PostPublished
from siar_scheduler.api.network_routes import all_rules
from siar_scheduler.domain import (
    DispatchRecord,
    Post,
    PostStatus,
    PostVariant,
    Target,
    TargetStatus,
    outcome_applied,
)
from siar_scheduler.firing import events_for
from siar_scheduler.outcomes import outcome_of
from siar_scheduler.variants import (
    rule_violations,
    variants_from_json,
    variants_to_json,
)

AT = datetime(2030, 5, 1, 9, 0, tzinfo=UTC)


def bare(cls: type[Connector]) -> Connector:
    return cls.__new__(cls)  # only rules and capabilities are read: nothing to connect


CONNECTORS: dict[str, Connector] = {
    cls.network: bare(cls)
    for cls in (
        BlueskyConnector,
        FacebookPagesConnector,
        InstagramConnector,
        PinterestConnector,
        SandboxConnector,
        XConnector,
        YouTubeConnector,
    )
}

JPEG = MediaItem(
    kind=MediaKind.IMAGE, mime_type="image/jpeg", size_bytes=1000, width=1080, height=1080
)
MP4 = MediaItem(
    kind=MediaKind.VIDEO,
    mime_type="video/mp4",
    size_bytes=1000,
    width=1080,
    height=1920,
    duration_s=20,
)


def targets(*networks: str) -> list[Target]:
    return [Target(account_id=f"acc_{n}", network=n) for n in networks]


def rules(
    text: str,
    networks: tuple[str, ...],
    media: tuple[MediaItem, ...] = (),
    **variants: PostVariant,
) -> set[tuple[str, str]]:
    found = rule_violations(CONNECTORS, text, targets(*networks), media, variants)
    return {(v["network"], v["rule"]) for v in found}


def test_each_network_is_checked_on_its_own_caption() -> None:
    long = "word " * 80  # 400 characters: fine on the sandbox, too long for X
    assert rules(long, ("x", "sandbox")) == {("x", "text.length")}
    assert rules(long, ("x", "sandbox"), x=PostVariant(text="Short for X")) == set()
    # The variant's caption is the one checked, even when the post's text is fine.
    over = PostVariant(text="y" * 300)
    assert rules("fine", ("x", "sandbox"), x=over) == {("x", "text.length")}
    tags = PostVariant(text=" ".join(f"#t{i}" for i in range(31)))
    assert rules("fine", ("x", "sandbox"), sandbox=tags) == {("sandbox", "text.hashtags")}


def test_a_variant_for_a_network_the_post_does_not_go_to_is_named() -> None:
    found = rule_violations(
        CONNECTORS, "hi", targets("sandbox"), (), {"instagram": PostVariant(format="reel")}
    )
    assert [(v["network"], v["rule"]) for v in found] == [("instagram", "variant.not_a_target")]
    assert "no instagram account" in found[0]["message"]


def test_the_format_must_be_one_the_network_offers() -> None:
    assert rules("hi", ("facebook",), (MP4,), facebook=PostVariant(format="reel")) == {
        ("facebook", "format")
    }
    assert rules("hi", ("sandbox",), sandbox=PostVariant(format="nonsense")) == {
        ("sandbox", "format")
    }


@pytest.mark.parametrize(
    ("fmt", "media", "broken"),
    [
        ("story", (JPEG,), None),
        ("story", (MP4,), None),
        ("story", (JPEG, JPEG), "format.story"),
        ("reel", (MP4,), None),
        ("reel", (JPEG,), "format.reel"),
        ("video", (JPEG,), "format.video"),
        ("carousel", (JPEG, MP4), None),
        ("carousel", (JPEG,), "format.carousel"),
        ("carousel", (JPEG,) * 11, "format.carousel"),
        ("feed", (JPEG,), None),
    ],
)
def test_each_format_has_its_media_rules(
    fmt: str, media: tuple[MediaItem, ...], broken: str | None
) -> None:
    found = rules("Spring", ("instagram",), media, instagram=PostVariant(format=fmt))
    found.discard(("instagram", "media.count"))  # 11 items also break the count
    assert found == ({("instagram", broken)} if broken else set())


def test_titles_only_where_the_network_has_them() -> None:
    assert rules("hi", ("youtube",), (MP4,), youtube=PostVariant(title="t" * 100)) == set()
    assert rules("hi", ("youtube",), (MP4,), youtube=PostVariant(title="t" * 101)) == {
        ("youtube", "title.length")
    }
    assert rules("hi", ("instagram",), (JPEG,), instagram=PostVariant(title="Spring")) == {
        ("instagram", "title.unsupported")
    }


def test_first_comments_where_the_network_can_comment() -> None:
    comment = PostVariant(first_comment="#spring #launch")
    assert rules("hi", ("sandbox",), sandbox=comment) == set()  # through a reply
    assert rules("hi", ("pinterest",), (JPEG,), pinterest=comment) == {
        ("pinterest", "first_comment.unsupported")
    }
    story = PostVariant(format="story", first_comment="hello")
    assert rules("hi", ("instagram",), (JPEG,), instagram=story) == {
        ("instagram", "first_comment.story")
    }
    long = PostVariant(first_comment="c" * 301)
    assert rules("hi", ("bluesky",), bluesky=long) == {("bluesky", "first_comment.length")}


def test_firing_sends_each_target_its_variant() -> None:
    post = Post(
        id="pst_1",
        workspace_id="ws_1",
        text="Spring is here",
        media_ids=["med_1"],
        media_kinds=["video"],
        scheduled_at=AT,
        status=PostStatus.DISPATCHED,
        targets=targets("youtube", "sandbox"),
        created_by="usr_1",
        created_at=AT,
        updated_at=AT,
        variants={
            "youtube": PostVariant(
                text="Full description", title="Spring", format="reel", first_comment="Hi!"
            )
        },
    )
    record = DispatchRecord(occurrence="occ", due_at=AT, dispatched_at=AT, lateness_ms=0)
    youtube, sandbox = events_for(post, record)
    assert (youtube.text, youtube.title, youtube.format) == ("Full description", "Spring", "reel")
    assert (youtube.first_comment, youtube.media_kinds) == ("Hi!", ["video"])
    assert (sandbox.text, sandbox.title, sandbox.format, sandbox.first_comment) == (
        "Spring is here",
        None,
        None,
        None,
    )


def test_csv_cells_round_trip_and_bad_ones_say_why() -> None:
    variants = {"x": PostVariant(text="Short", first_comment="more")}
    cell = variants_to_json(variants)
    assert cell == '{"x":{"text":"Short","first_comment":"more"}}'
    assert variants_from_json(cell) == variants
    assert variants_from_json("") == {}
    assert variants_to_json({}) == ""
    with pytest.raises(ValueError, match=r"variants: x\.format"):
        variants_from_json('{"x":{"format":"hologram"}}')
    with pytest.raises(ValueError, match=r"variants: x\.colour"):
        variants_from_json('{"x":{"colour":"red"}}')
    with pytest.raises(ValueError, match="variants"):
        variants_from_json("not json")


def test_the_rules_shown_say_where_a_first_comment_can_go() -> None:
    shown = {r.network: r.first_comment for r in all_rules()}
    assert all(shown[n] for n in ("sandbox", "youtube", "instagram"))
    assert not shown["pinterest"]
    assert not shown["tiktok"]
    for network, allowed in shown.items():
        if network not in CONNECTORS:
            continue
        comment = PostVariant(first_comment="hi")
        refused = "first_comment.unsupported" in {
            rule for _, rule in rules("hi", (network,), (JPEG,), **{network: comment})
        }
        assert refused is not allowed, network


def test_a_first_comment_warning_is_kept_on_the_target() -> None:
    post = Post(
        id="pst_1",
        workspace_id="ws_1",
        text="Spring",
        scheduled_at=AT,
        status=PostStatus.DISPATCHED,
        targets=targets("sandbox"),
        created_by="usr_1",
        created_at=AT,
        updated_at=AT,
    )
    warning = "the post is live but its first comment was not posted: rate limit"
    event = PostPublished.new(
        workspace_id="ws_1",
        post_id="pst_1",
        account_id="acc_sandbox",
        network="sandbox",
        occurrence="occ",
        network_post_id="sbxpost_1",
        published_at=AT,
        warnings=[warning],
    )
    after = outcome_applied(post, outcome_of(event), now=AT)
    assert after is not None
    assert after.targets[0].status is TargetStatus.PUBLISHED
    assert after.targets[0].warnings == [warning]
