"""Webhook calls as Meta and X document them, signed as they sign them (for tests and benches)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any


def meta_signed(payload: dict[str, Any], app_secret: str) -> tuple[bytes, dict[str, str]]:
    """Body and headers of a Meta webhook call (X-Hub-Signature-256)."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {"content-type": "application/json", "x-hub-signature-256": f"sha256={digest}"}


def x_signed(payload: dict[str, Any], consumer_secret: str) -> tuple[bytes, dict[str, str]]:
    """Body and headers of an X Account Activity call (x-twitter-webhooks-signature)."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    digest = hmac.new(consumer_secret.encode(), body, hashlib.sha256).digest()
    signature = "sha256=" + base64.b64encode(digest).decode()
    return body, {"content-type": "application/json", "x-twitter-webhooks-signature": signature}


def page_comment(
    page: str, comment_id: str, text: str, at: datetime, **extra: Any
) -> dict[str, Any]:
    """A Page ``feed`` change for a new comment (Graph webhooks, object "page")."""
    post_id = extra.pop("post_id", f"{page}_100")
    value = {
        "from": {"id": extra.pop("author_id", "u1"), "name": extra.pop("author_name", "Ayu")},
        "post": {"status_type": "mobile_status_update", "id": post_id},
        "message": text,
        "post_id": post_id,
        "comment_id": comment_id,
        "created_time": int(at.timestamp()),
        "item": "comment",
        "parent_id": extra.pop("parent_id", post_id),
        "verb": extra.pop("verb", "add"),
    }
    return {"id": page, "time": int(at.timestamp()), "changes": [{"field": "feed", "value": value}]}


def page_dm(page: str, mid: str, sender: str, text: str, at: datetime) -> dict[str, Any]:
    """A Messenger message to a Page (entry.messaging)."""
    stamp = int(at.timestamp() * 1000)
    return {
        "id": page,
        "time": stamp,
        "messaging": [
            {
                "sender": {"id": sender},
                "recipient": {"id": page},
                "timestamp": stamp,
                "message": {"mid": mid, "text": text},
            }
        ],
    }


def meta_call(obj: str, *entries: dict[str, Any]) -> dict[str, Any]:
    """A whole Meta webhook call: ``object`` and its entries."""
    return {"object": obj, "entry": list(entries)}


def instagram_comment(user: str, comment_id: str, text: str, at: datetime) -> dict[str, Any]:
    """An Instagram ``comments`` change (object "instagram")."""
    value = {
        "from": {"id": "ig_fan", "username": "fan.gram"},
        "media": {"id": "media_1", "media_product_type": "FEED"},
        "id": comment_id,
        "text": text,
    }
    return {
        "id": user,
        "time": int(at.timestamp()),
        "changes": [{"field": "comments", "value": value}],
    }


def threads_reply(user: str, reply_id: str, text: str, at: datetime) -> dict[str, Any]:
    """A Threads ``replies`` webhook call (one event per call, ``values``)."""
    return {
        "app_id": "123",
        "topic": "moderate",
        "target_id": user,
        "time": int(at.timestamp()),
        "subscription_id": "456",
        "has_uid_field": False,
        "values": {
            "field": "replies",
            "value": {
                "id": reply_id,
                "username": "threads_fan",
                "text": text,
                "media_type": "TEXT_POST",
                "permalink": f"https://www.threads.net/@threads_fan/post/{reply_id}",
                "replied_to": {"id": "root_1"},
                "root_post": {"id": "root_1", "owner_id": user, "username": "siar_brand"},
                "shortcode": "abc",
                "timestamp": at.strftime("%Y-%m-%dT%H:%M:%S+0000"),
            },
        },
    }


def x_tweet(
    me: str, tweet_id: str, text: str, at: datetime, *, followers: int = 10, reply_to: str = ""
) -> dict[str, Any]:
    """A v1.1 post in ``tweet_create_events``."""
    return {
        "id_str": tweet_id,
        "created_at": at.strftime("%a %b %d %H:%M:%S +0000 %Y"),
        "text": text,
        "user": {
            "id_str": "fan_1",
            "screen_name": "fan",
            "name": "A Fan",
            "followers_count": followers,
        },
        "in_reply_to_status_id_str": reply_to or None,
        "in_reply_to_user_id_str": me if reply_to else None,
    }


def x_dm(me: str, event_id: str, sender: str, text: str, at: datetime) -> dict[str, Any]:
    """A ``message_create`` in ``direct_message_events``."""
    return {
        "type": "message_create",
        "id": event_id,
        "created_timestamp": str(int(at.timestamp() * 1000)),
        "message_create": {
            "target": {"recipient_id": me},
            "sender_id": sender,
            "message_data": {"text": text, "entities": {}},
        },
    }


def x_call(
    me: str, tweets: list[dict[str, Any]] | None = None, dms: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A whole Account Activity call for ``me``."""
    tweets, dms = tweets or [], dms or []
    payload: dict[str, Any] = {"for_user_id": me}
    if tweets:
        payload["tweet_create_events"] = tweets
    if dms:
        payload["direct_message_events"] = dms
        payload["users"] = {
            dm["message_create"]["sender_id"]: {
                "id": dm["message_create"]["sender_id"],
                "screen_name": "dm_fan",
                "name": "DM Fan",
                "followers_count": 250_000,
            }
            for dm in dms
        }
    return payload
