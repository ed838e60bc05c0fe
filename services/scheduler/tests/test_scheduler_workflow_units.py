"""Pure parts of the workflow: CSV reading and writing, calendar filters, the iCalendar feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siar_scheduler.calendar_feed import render_feed
from siar_scheduler.calendar_ops import CalendarFilter
from siar_scheduler.csv_io import COLUMNS, MAX_ROWS, read_rows, write_csv
from siar_scheduler.domain import Post, PostStatus, Target, TargetStatus
from siar_scheduler.errors import CsvColumns, CsvTooLarge, CsvUnreadable
from siar_scheduler.labels import Label

AT = datetime(2030, 5, 1, 9, 0, tzinfo=UTC)


def post(
    text: str, *, labels: list[str] | None = None, status: PostStatus = PostStatus.SCHEDULED
) -> Post:
    return Post(
        id="pst_1",
        workspace_id="ws_1",
        text=text,
        link="https://example.com/a?b=c",
        media_ids=["med_1", "med_2"],
        scheduled_at=AT,
        status=status,
        targets=[
            Target(account_id="acc_1", network="bluesky", status=TargetStatus.SCHEDULED),
            Target(account_id="acc_2", network="sandbox", status=TargetStatus.SCHEDULED),
        ],
        created_by="usr_1",
        created_at=AT - timedelta(days=1),
        updated_at=AT - timedelta(days=1),
        version=3,
        label_ids=labels or [],
    )


# Text a person might type: any printable character, commas, quotes and line breaks.
TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00")
    | st.sampled_from(",\"'\n;"),
    min_size=1,
    max_size=200,
).filter(lambda t: t.strip() == t and t != "")


@given(text=TEXT)
@settings(max_examples=200, deadline=None)
def test_an_export_reads_back_the_same(text: str) -> None:
    exported = write_csv([post(text, labels=["lbl_1"])], {"lbl_1": "Spring; Sale"})
    (row,) = read_rows(exported.encode())
    assert row["text"] == text
    assert row["account_ids"] == "acc_1;acc_2"
    assert row["media_ids"] == "med_1;med_2"
    assert datetime.fromisoformat(row["scheduled_at"]) == AT
    assert list(row) == list(COLUMNS)


def test_a_bom_and_spaces_around_header_names_are_fine() -> None:
    rows = read_rows(
        "\ufeff scheduled_at ,account_ids,text\r\n2030-05-01T09:00Z,acc_1,hi\r\n".encode()
    )
    assert rows == [{"scheduled_at": "2030-05-01T09:00Z", "account_ids": "acc_1", "text": "hi"}]


@pytest.mark.parametrize(
    ("data", "error", "words"),
    [
        (b"", CsvColumns, "empty"),
        (b"text,account_ids\r\n", CsvColumns, "missing scheduled_at"),
        (b"scheduled_at,account_ids,text,Text\r\n", CsvColumns, "unknown Text"),
        (b"scheduled_at,account_ids,text\r\n\xff,a,b\r\n", CsvUnreadable, "offset 31"),
        (b"scheduled_at,account_ids,text\r\na,b,c\x00\r\n", CsvUnreadable, "NUL"),
        (b'scheduled_at,account_ids,text\r\na,b,"c\r\n', CsvUnreadable, "line"),
    ],
)
def test_bad_files_name_their_problem(data: bytes, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        read_rows(data)


def test_row_and_byte_limits() -> None:
    header = b"scheduled_at,account_ids,text\r\n"
    assert len(read_rows(header + b"a,b,c\r\n" * MAX_ROWS)) == MAX_ROWS
    with pytest.raises(CsvTooLarge, match="5000"):
        read_rows(header + b"a,b,c\r\n" * (MAX_ROWS + 1))


def test_calendar_filter_matches_targets_element_wise() -> None:
    start, end = AT, AT + timedelta(days=30)
    assert CalendarFilter().query(start, end) == {"scheduled_at": {"$gte": start, "$lt": end}}
    query = CalendarFilter(
        account_ids=("acc_1",),
        networks=("bluesky", "x"),
        statuses=(PostStatus.IN_REVIEW,),
        label_ids=("lbl_1",),
        authors=("usr_1",),
    ).query(start, end)
    assert query["$and"] == [
        {"targets": {"$elemMatch": {"account_id": {"$in": ["acc_1"]}}}},
        {"targets": {"$elemMatch": {"network": {"$in": ["bluesky", "x"]}}}},
    ]
    assert query["status"] == {"$in": ["in_review"]}
    assert query["label_ids"] == {"$in": ["lbl_1"]}
    assert query["created_by"] == {"$in": ["usr_1"]}


def test_the_feed_is_rfc5545_with_stable_uids() -> None:
    long = "A launch " + "very " * 30 + "long first line\nand a second"
    feed = render_feed(
        workspace_id="ws_1",
        posts=[
            post(long, labels=["lbl_1", "lbl_gone"]),
            post("Draft", status=PostStatus.IN_REVIEW),
        ],
        labels=[Label(id="lbl_1", name="Launch", colour="#000000")],
        stamp=AT,
    )
    cal = icalendar.Calendar.from_ical(feed)
    assert str(cal["version"]) == "2.0"
    first, second = cal.walk("VEVENT")
    assert str(first["uid"]) == "pst_1@siar"
    assert first.decoded("sequence") == 3
    assert str(first["summary"]).startswith("[bluesky, sandbox] A launch very")
    assert str(first["summary"]).endswith("…")
    assert len(str(first["summary"])) <= len("[bluesky, sandbox] ") + 60
    assert first.decoded("dtend") - first.decoded("dtstart") == timedelta(minutes=15)
    assert [str(c) for c in first.get("categories").cats] == ["Launch"]
    assert str(first["status"]) == "CONFIRMED"
    assert str(second["status"]) == "TENTATIVE"
    assert "and a second" in str(first["description"])
