"""Events of a post's life: scheduled, published, failed."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from siar.contracts.envelope import Event


class PostScheduled(Event):
    """A post's time has come: deliver it now to one account."""

    topic: ClassVar[str] = "post.scheduled"
    event_type: Literal["post.scheduled"] = "post.scheduled"
    schema_version: Literal[1] = 1
    post_id: str = Field(min_length=1)
    account_id: str = Field(min_length=1)
    network: str = Field(min_length=1, description="Connector name, e.g. 'sandbox'.")
    occurrence: str = Field(
        min_length=1, description="Which occurrence of the post (ISO due time); part of its key."
    )
    due_at: AwareDatetime
    text: str
    media_ids: list[str] = Field(default_factory=list)
    link: str | None = None
    first_comment: str | None = None
    format: str | None = Field(
        default=None, description="The post's format (feed, story, reel...), when chosen."
    )
    media_kinds: list[str] = Field(
        default_factory=list, description="Kind of each media item (image, video), in order."
    )
    title: str | None = Field(
        default=None, description="The title on networks that show one (YouTube, Pinterest...)."
    )
    thread: list[str] = Field(
        default_factory=list,
        description="A thread's parts after ``text``, in order (format thread only).",
    )


class PostPublished(Event):
    """Delivered: the network's post id and permalink."""

    topic: ClassVar[str] = "post.published"
    event_type: Literal["post.published"] = "post.published"
    schema_version: Literal[1] = 1
    post_id: str
    account_id: str
    network: str
    occurrence: str
    network_post_id: str
    permalink: str | None = None
    published_at: AwareDatetime
    due_at: AwareDatetime | None = None
    attempts: int = Field(default=1, ge=1)
    warnings: list[str] = Field(
        default_factory=list,
        description="What failed once the post was live (e.g. its first comment), in words.",
    )


class PostFailed(Event):
    """Not delivered: the error class, whether a retry may help, attempts made."""

    topic: ClassVar[str] = "post.failed"
    event_type: Literal["post.failed"] = "post.failed"
    schema_version: Literal[1] = 1
    post_id: str
    account_id: str
    network: str
    occurrence: str
    error_class: Literal["retryable", "auth_expired", "permanent"]
    reason: str = Field(description="A reason a person can act on.")
    retryable: bool
    attempts: int = Field(ge=1)
