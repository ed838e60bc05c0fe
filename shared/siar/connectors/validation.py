"""Checks a post against a network's rules before it can be scheduled.

Pure functions, so the scheduler, the console and tests all give the same verdict;
each violation names the network and the rule, in words a person can act on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from siar.connectors.base import Connector
from siar.connectors.models import MediaItem
from siar.connectors.rules import Capability, MediaKind, MediaLimits, PostFormat

HASHTAG = re.compile(r"(?<![\w&])#(\w+)", re.UNICODE)
MENTION = re.compile(r"(?<![\w@])@([\w.]+(?:@[\w.-]+)?)", re.UNICODE)


@dataclass(frozen=True)
class Violation:
    """One broken rule."""

    network: str
    rule: str
    message: str


@dataclass(frozen=True)
class Draft:
    """The parts of a post the rules look at, for one network."""

    text: str
    media: tuple[MediaItem, ...] = ()
    format: PostFormat = PostFormat.FEED
    title: str | None = None
    thread: tuple[str, ...] = ()
    first_comment: str | None = None


def _media_violations(connector: Connector, item: MediaItem, n: int) -> list[Violation]:
    net, name = connector.network, connector.display_name
    limits: MediaLimits | None = (
        connector.rules.image if item.kind is MediaKind.IMAGE else connector.rules.video
    )
    if limits is None:
        return [Violation(net, f"media.{item.kind}", f"{name} does not take {item.kind}s")]
    found: list[Violation] = []
    label = f"media {n} ({item.filename})"
    if item.mime_type not in limits.mime_types:
        allowed = ", ".join(sorted(limits.mime_types))
        found.append(
            Violation(net, "media.type", f"{name} takes {allowed}; {label} is {item.mime_type}")
        )
    if item.size_bytes > limits.max_bytes:
        found.append(
            Violation(
                net,
                "media.size",
                f"{name} allows {limits.max_bytes / 1_048_576:g} MB; "
                f"{label} is {item.size_bytes / 1_048_576:.1f} MB",
            )
        )
    if item.width and item.height:
        aspect = item.width / item.height
        if (limits.min_aspect and aspect < limits.min_aspect - 1e-3) or (
            limits.max_aspect and aspect > limits.max_aspect + 1e-3
        ):
            found.append(
                Violation(
                    net,
                    "media.aspect_ratio",
                    f"{name} needs an aspect ratio between {limits.min_aspect or 0:g} and "
                    f"{limits.max_aspect or 'any':}; {label} is {aspect:.2f}",
                )
            )
    if item.duration_s is not None:
        if limits.max_duration_s and item.duration_s > limits.max_duration_s:
            found.append(
                Violation(
                    net,
                    "media.duration",
                    f"{name} allows videos up to {limits.max_duration_s:g} s; "
                    f"{label} lasts {item.duration_s:g} s",
                )
            )
        if limits.min_duration_s and item.duration_s < limits.min_duration_s:
            found.append(
                Violation(
                    net,
                    "media.duration",
                    f"{name} needs videos of at least {limits.min_duration_s:g} s; "
                    f"{label} lasts {item.duration_s:g} s",
                )
            )
    return found


def validate(connector: Connector, draft: Draft) -> list[Violation]:
    """Every rule of ``connector``'s network that ``draft`` breaks (empty when fine)."""
    rules, net, name = connector.rules, connector.network, connector.display_name
    found: list[Violation] = []
    if draft.format not in rules.formats:
        formats = ", ".join(sorted(f.value for f in rules.formats))
        found.append(
            Violation(net, "format", f"{name} supports {formats}, not {draft.format.value}")
        )
    for part, text in enumerate((draft.text, *draft.thread), start=1):
        length = connector.measure_text(text)
        if length > rules.max_text_chars:
            # A part has a rule of its own, so a form can show it beside the parts.
            where, rule = (
                ("the text", "text.length")
                if part == 1
                else (f"thread part {part}", "thread.length")
            )
            found.append(
                Violation(
                    net,
                    rule,
                    f"{name} allows {rules.max_text_chars} characters; {where} has {length}",
                )
            )
    if draft.thread and rules.max_thread_parts and len(draft.thread) + 1 > rules.max_thread_parts:
        found.append(
            Violation(
                net,
                "thread.parts",
                f"{name} allows {rules.max_thread_parts} parts in a thread; "
                f"this one has {len(draft.thread) + 1}",
            )
        )
    hashtags = len(HASHTAG.findall(draft.text))
    if rules.max_hashtags is not None and hashtags > rules.max_hashtags:
        found.append(
            Violation(
                net,
                "text.hashtags",
                f"{name} allows {rules.max_hashtags} hashtags; the text has {hashtags}",
            )
        )
    mentions = len(MENTION.findall(draft.text))
    if rules.max_mentions is not None and mentions > rules.max_mentions:
        found.append(
            Violation(
                net,
                "text.mentions",
                f"{name} allows {rules.max_mentions} mentions; the text has {mentions}",
            )
        )
    if rules.requires_media and not draft.media:
        found.append(Violation(net, "media.required", f"{name} posts need an image or a video"))
    if len(draft.media) > rules.max_media:
        found.append(
            Violation(
                net,
                "media.count",
                f"{name} allows {rules.max_media} media per post; this one has {len(draft.media)}",
            )
        )
    for n, item in enumerate(draft.media, start=1):
        found.extend(_media_violations(connector, item, n))
    title = draft.title or ""
    if rules.max_title_chars is not None and len(title) > rules.max_title_chars:
        found.append(
            Violation(
                net,
                "title.length",
                f"{name} allows titles of {rules.max_title_chars} characters; "
                f"this one has {len(title)}",
            )
        )
    found.extend(_variant_violations(connector, draft))
    return found


_ONE_ITEM = {
    PostFormat.STORY: "one image or video",
    PostFormat.REEL: "one video",
    PostFormat.VIDEO: "one video",
}


def _format_media(connector: Connector, draft: Draft) -> Violation | None:
    """What a format needs of the media: one item for a story, reel or video, 2+ for a carousel."""
    fmt, media, name = draft.format, draft.media, connector.display_name
    if fmt not in connector.rules.formats:
        return None  # already refused as "format"
    if fmt in _ONE_ITEM:
        videos_only = fmt is not PostFormat.STORY
        fits = len(media) == 1 and (not videos_only or media[0].kind is MediaKind.VIDEO)
        if not fits:
            kinds = ", ".join(m.kind.value for m in media) or "no media"
            return Violation(
                connector.network,
                f"format.{fmt.value}",
                f"on {name}, a {fmt.value} carries exactly {_ONE_ITEM[fmt]}; this one has {kinds}",
            )
    if fmt is PostFormat.CAROUSEL and not 2 <= len(media) <= connector.rules.max_media:
        return Violation(
            connector.network,
            "format.carousel",
            f"on {name}, a carousel has 2 to {connector.rules.max_media} items; "
            f"this one has {len(media)}",
        )
    return None


def _variant_violations(connector: Connector, draft: Draft) -> list[Violation]:
    """The format's media, thread parts outside a thread, a title where the network has none,
    and the first comment."""
    net, name, rules = connector.network, connector.display_name, connector.rules
    found = [v for v in [_format_media(connector, draft)] if v is not None]
    if draft.thread and draft.format is not PostFormat.THREAD:
        found.append(
            Violation(
                net,
                "thread.format",
                f"on {name}, thread parts go with the thread format only; "
                f"this post's format is {draft.format.value}",
            )
        )
    if draft.title and rules.max_title_chars is None:
        found.append(Violation(net, "title.unsupported", f"{name} posts have no title"))
    comment = draft.first_comment
    if comment:
        if not connector.capabilities & {Capability.FIRST_COMMENT, Capability.REPLY}:
            found.append(
                Violation(net, "first_comment.unsupported", f"{name} takes no first comment")
            )
        elif draft.format is PostFormat.STORY:
            found.append(Violation(net, "first_comment.story", f"{name} stories take no comments"))
        elif connector.measure_text(comment) > rules.max_text_chars:
            found.append(
                Violation(
                    net,
                    "first_comment.length",
                    f"{name} allows {rules.max_text_chars} characters; "
                    f"the first comment has {connector.measure_text(comment)}",
                )
            )
    return found
