"""Thread parts on a variant: allowed only in a thread, each part checked, carried to firing."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from siar_scheduler.domain import DispatchRecord, Post, PostStatus, PostVariant
from siar_scheduler.firing import events_for
from siar_scheduler.variants import (
    VariantIn,
    rule_violations,
    variants_from_json,
    variants_to_json,
)

from .test_scheduler_variants import AT, CONNECTORS, targets


def found(network: str, variant: PostVariant, text: str = "1/ Spring") -> list[dict[str, str]]:
    return rule_violations(CONNECTORS, text, targets(network), (), {network: variant})


def rules_of(network: str, variant: PostVariant) -> set[tuple[str, str]]:
    return {(v["network"], v["rule"]) for v in found(network, variant)}


def test_a_thread_on_a_network_that_offers_threads_is_fine() -> None:
    thread = PostVariant(format="thread", thread=["2/ Menu", "3/ Hours"])
    assert rules_of("x", thread) == set()
    assert rules_of("bluesky", thread) == set()


def test_parts_need_the_thread_format() -> None:
    feed = found("x", PostVariant(thread=["2/ Menu"]))
    assert [(v["network"], v["rule"]) for v in feed] == [("x", "thread.format")]
    assert "on X, thread parts go with the thread format only" in feed[0]["message"]
    assert "feed" in feed[0]["message"]


def test_parts_need_a_network_that_offers_threads() -> None:
    # Facebook has no thread format: the format is refused, and the parts with it.
    assert rules_of("facebook", PostVariant(format="thread", thread=["2/ Menu"])) == {
        ("facebook", "format")
    }
    assert rules_of("facebook", PostVariant(thread=["2/ Menu"])) == {("facebook", "thread.format")}


def test_each_part_is_measured_by_the_networks_own_count() -> None:
    # 280 weighted characters fit on X; 141 CJK characters weigh 282.
    fits = PostVariant(format="thread", thread=["a" * 280, "b"])
    assert rules_of("x", fits) == set()
    heavy = found("x", PostVariant(format="thread", thread=["ok", "日" * 141]))
    assert [(v["rule"], v["message"]) for v in heavy] == [
        ("thread.length", "X allows 280 characters; thread part 3 has 282")
    ]
    # Bluesky counts graphemes, 300 of them.
    assert rules_of("bluesky", PostVariant(format="thread", thread=["c" * 301])) == {
        ("bluesky", "thread.length")
    }


def test_the_networks_part_limit_counts_the_caption() -> None:
    most = PostVariant(format="thread", thread=[f"{n}/" for n in range(2, 26)])
    assert rules_of("x", most) == set()  # 1 + 24 = 25 parts: X's limit
    over = found("x", PostVariant(format="thread", thread=[f"{n}/" for n in range(2, 27)]))
    assert [(v["rule"], v["message"]) for v in over] == [
        ("thread.parts", "X allows 25 parts in a thread; this one has 26")
    ]


def test_the_request_takes_up_to_25_non_empty_parts() -> None:
    assert VariantIn(format="thread", thread=["p"] * 25).stored().thread == ["p"] * 25
    with pytest.raises(ValidationError, match="thread"):
        VariantIn(format="thread", thread=["p"] * 26)
    with pytest.raises(ValidationError, match=r"thread\.1"):
        VariantIn(format="thread", thread=["p", ""])


def test_csv_cells_carry_parts_and_leave_them_out_when_there_are_none() -> None:
    variants = {"x": PostVariant(text="1/ Spring", format="thread", thread=["2/ Menu"])}
    cell = variants_to_json(variants)
    assert cell == '{"x":{"text":"1/ Spring","format":"thread","thread":["2/ Menu"]}}'
    assert variants_from_json(cell) == variants
    assert variants_to_json({"x": PostVariant(text="Short")}) == '{"x":{"text":"Short"}}'
    with pytest.raises(ValueError, match=r"variants: x\.thread\.0"):
        variants_from_json('{"x":{"format":"thread","thread":[""]}}')


def test_firing_sends_the_parts_to_their_network_only() -> None:
    post = Post(
        id="pst_1",
        workspace_id="ws_1",
        text="Spring is here",
        scheduled_at=AT,
        status=PostStatus.DISPATCHED,
        targets=targets("x", "bluesky"),
        created_by="usr_1",
        created_at=AT,
        updated_at=AT,
        variants={"x": PostVariant(text="1/ Spring", format="thread", thread=["2/ Menu", "3/"])},
    )
    record = DispatchRecord(occurrence="occ", due_at=AT, dispatched_at=AT, lateness_ms=0)
    x, bluesky = events_for(post, record)
    assert (x.text, x.format, x.thread) == ("1/ Spring", "thread", ["2/ Menu", "3/"])
    assert (bluesky.text, bluesky.format, bluesky.thread) == ("Spring is here", None, [])


def test_a_stored_variant_without_parts_reads_as_none() -> None:
    # Posts written before parts existed have no "thread" key.
    old = PostVariant.model_validate({"text": "Short", "format": None})
    assert old.thread == []
