"""Request and response bodies of the workflow routes (approvals, labels, calendar, CSV)."""

from __future__ import annotations

from datetime import datetime

from pydantic import AnyHttpUrl, AwareDatetime, BaseModel, ConfigDict, Field, SecretStr

from siar_scheduler.api.schemas import PostPublic

COLOUR_PATTERN = r"^#[0-9a-fA-F]{6}$"


class ReviewStep(BaseModel):
    """A comment that goes with a review step."""

    model_config = ConfigDict(extra="forbid")
    comment: str | None = Field(default=None, max_length=5000)


class Approval(ReviewStep):
    """Approve, optionally at a new time (needed when the old one passed)."""

    scheduled_at: AwareDatetime | None = None


class ChangesRequest(BaseModel):
    """What the author should change; required."""

    model_config = ConfigDict(extra="forbid")
    comment: str = Field(min_length=1, max_length=5000)


class LabelCreate(BaseModel):
    """A new campaign label."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=80)
    colour: str = Field(pattern=COLOUR_PATTERN, description="#RRGGBB")


class LabelUpdate(BaseModel):
    """Rename or recolour a label."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=80)
    colour: str | None = Field(default=None, pattern=COLOUR_PATTERN)


class LabelPublic(BaseModel):
    """A label as shown."""

    id: str
    name: str
    colour: str


class LabelList(BaseModel):
    """The workspace's labels."""

    items: list[LabelPublic]


class MoveItem(BaseModel):
    """One post to a new time."""

    model_config = ConfigDict(extra="forbid")
    post_id: str = Field(min_length=1, max_length=64)
    scheduled_at: AwareDatetime


class BulkMove(BaseModel):
    """Posts to move; all move or none does."""

    model_config = ConfigDict(extra="forbid")
    moves: list[MoveItem] = Field(min_length=1, max_length=500)


class BulkDelete(BaseModel):
    """Posts to delete; all go or none does."""

    model_config = ConfigDict(extra="forbid")
    post_ids: list[str] = Field(min_length=1, max_length=500)


class BulkMoved(BaseModel):
    """The moved posts."""

    items: list[PostPublic]


class BulkDeleted(BaseModel):
    """How many posts were deleted."""

    deleted: int


class WebhookIn(BaseModel):
    """Where failures are announced; the secret signs each call (HMAC-SHA256)."""

    model_config = ConfigDict(extra="forbid")
    url: AnyHttpUrl
    secret: SecretStr = Field(min_length=16, max_length=256)


class SettingsUpdate(BaseModel):
    """Changes to the workspace's scheduler settings; ``failure_webhook: null`` removes it."""

    model_config = ConfigDict(extra="forbid")
    approvals_required: bool | None = None
    failure_webhook: WebhookIn | None = None


class SettingsPublic(BaseModel):
    """The workspace's scheduler settings (never the webhook secret)."""

    approvals_required: bool
    failure_webhook_url: str | None
    calendar_feed: bool = Field(description="Whether a calendar feed token exists.")


class FeedToken(BaseModel):
    """A new calendar feed URL: shown once; rotating it again revokes it."""

    url: str
    webcal_url: str = Field(description="The same feed for apps that subscribe to webcal:// links.")
    token: str
    rotated_at: datetime


class RowResult(BaseModel):
    """One CSV data row's verdict (``line`` 1 is the header)."""

    line: int
    post_id: str | None
    errors: list[str]


class ImportReport(BaseModel):
    """What an import did."""

    mode: str
    imported: int
    invalid: int
    rows: list[RowResult]
