"""Mentions, replies and DMs in X Account Activity API webhook calls.

A call is ``{"for_user_id": <account>, "tweet_create_events": [...],
"direct_message_events": [...], "users": {...}}``; posts are v1.1 objects
(``id_str``, ``created_at`` as ``Wed Oct 10 20:19:24 +0000 2018``, ``user``), DMs are
``message_create`` events with a millisecond ``created_timestamp``. Messages are
normalised as polling does (x_inbox), so one seen both ways is stored once; the
account's own posts and DMs are skipped.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from siar.connectors.meta_webhooks import Delivery, as_dict, as_list, load
from siar.connectors.models import FetchedMessage


def _v1_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        # v1.1 dates are RFC 2822-like: "Wed Oct 10 20:19:24 +0000 2018".
        day, month, date, clock, zone, year = value.split()
        return parsedate_to_datetime(f"{day}, {date} {month} {year} {clock} {zone}")
    except (TypeError, ValueError):
        return None


def parse(body: bytes) -> Delivery:
    """Messages of a verified Account Activity call, oldest first."""
    payload = load(body, "x")
    me = str(payload.get("for_user_id", ""))
    found: Delivery = [
        (me, message)
        for tweet in as_list(payload.get("tweet_create_events"))
        if (message := _tweet(me, tweet)) is not None
    ]
    users = as_dict(payload.get("users"))
    found += [
        (me, message)
        for event in as_list(payload.get("direct_message_events"))
        if (message := _direct_message(me, event, users)) is not None
    ]
    found.sort(key=lambda pair: pair[1].sent_at)
    return found


def _tweet(me: str, tweet: dict[str, Any]) -> FetchedMessage | None:
    author = as_dict(tweet.get("user"))
    sent = _v1_time(tweet.get("created_at"))
    if not me or str(author.get("id_str")) == me or "id_str" not in tweet or sent is None:
        return None
    if "retweeted_status" in tweet:
        return None  # a repost says nothing new to answer
    parent = tweet.get("in_reply_to_status_id_str")
    text = as_dict(tweet.get("extended_tweet")).get("full_text") or tweet.get("text") or ""
    followers = author.get("followers_count")
    return FetchedMessage(
        network_message_id=str(tweet["id_str"]),
        kind="comment" if parent and tweet.get("in_reply_to_user_id_str") == me else "mention",
        author_handle=str(author.get("screen_name") or author.get("id_str") or ""),
        author_name=author.get("name"),
        author_followers=followers if isinstance(followers, int) else None,
        text=html.unescape(str(text)),
        # v1.1 has no conversation id; the thread is the post replied to, else the post.
        network_post_id=str(parent) if parent else str(tweet["id_str"]),
        parent_network_id=str(parent) if parent else None,
        sent_at=sent,
    )


def _direct_message(me: str, event: dict[str, Any], users: dict[str, Any]) -> FetchedMessage | None:
    create = as_dict(event.get("message_create"))
    sender = str(create.get("sender_id", ""))
    stamp = str(event.get("created_timestamp", ""))
    if event.get("type") != "message_create" or sender in ("", me) or not stamp.isdigit():
        return None
    user = as_dict(users.get(sender))
    followers = user.get("followers_count")
    recipient = str(as_dict(create.get("target")).get("recipient_id", ""))
    # X's DM conversation id for two people is "<lower id>-<higher id>".
    pair = sorted((sender, recipient), key=lambda i: (len(i), i))
    return FetchedMessage(
        network_message_id=str(event.get("id", "")),
        kind="dm",
        author_handle=str(user.get("screen_name") or sender),
        author_name=user.get("name"),
        author_followers=followers if isinstance(followers, int) else None,
        text=html.unescape(str(as_dict(create.get("message_data")).get("text", ""))),
        parent_network_id="-".join(pair) if recipient else None,
        sent_at=datetime.fromtimestamp(int(stamp) / 1000, UTC),
    )
