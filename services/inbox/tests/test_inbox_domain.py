"""Inbox identities: one message per network message, one conversation per thread."""

from __future__ import annotations

from siar_inbox.domain import conversation_id, message_id


def test_message_id_is_stable_and_scoped() -> None:
    assert message_id("ws1", "sandbox", "m1") == message_id("ws1", "sandbox", "m1")
    assert message_id("ws1", "sandbox", "m1") != message_id("ws2", "sandbox", "m1")
    assert message_id("ws1", "sandbox", "m1") != message_id("ws1", "mastodon", "m1")
    assert message_id("ws1", "sandbox", "m1").startswith("msg_")


def test_conversation_id_groups_a_thread() -> None:
    one = conversation_id("ws1", "acc1", "comment", "post9")
    assert one == conversation_id("ws1", "acc1", "comment", "post9")
    assert one != conversation_id("ws1", "acc1", "comment", "post10")
    assert one != conversation_id("ws1", "acc2", "comment", "post9")
    assert one != conversation_id("ws1", "acc1", "dm", "post9")
    assert one.startswith("cnv_")
