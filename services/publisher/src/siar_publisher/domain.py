"""Publisher domain: the delivery ledger entry and retry policy (no I/O)."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field


class DeliveryStatus(StrEnum):
    """Where a delivery is."""

    PENDING = "pending"
    PUBLISHED = "published"
    FAILED = "failed"


class Attempt(BaseModel):
    """One try at the network."""

    started_at: datetime
    finished_at: datetime
    outcome: str
    error_class: str | None = None
    reason: str | None = None


class FirstComment(BaseModel):
    """What became of a delivery's first comment (never a reason to fail the post)."""

    status: Literal["posted", "failed", "skipped"]
    via: Literal["publish", "reply"] = Field(
        description="Posted by the connector with the post, or by the publisher as a reply."
    )
    network_id: str | None = None
    reason: str | None = None


class Delivery(BaseModel):
    """One post on one account for one occurrence; written before the network call."""

    id: str
    workspace_id: str
    post_id: str
    account_id: str
    occurrence: str
    network: str
    status: DeliveryStatus = DeliveryStatus.PENDING
    network_post_id: str | None = None
    permalink: str | None = None
    attempts: list[Attempt] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime
    due_at: datetime | None = None
    error: str | None = None
    first_comment: FirstComment | None = None
    warnings: list[str] = Field(
        default_factory=list, description="What failed after the post went live."
    )
    owner: str | None = Field(default=None, description="Process holding the pending claim.")
    lease_until: float = Field(default=0.0, description="Epoch seconds the claim is held to.")


def delivery_id(post_id: str, account_id: str, occurrence: str) -> str:
    """Deterministic id: the same (post, account, occurrence) is always the same delivery."""
    digest = hashlib.sha256(f"{post_id}|{account_id}|{occurrence}".encode()).hexdigest()
    return f"dlv_{digest[:24]}"


def backoff_s(attempt: int, *, base: float, cap: float, retry_after: float | None) -> float:
    """Exponential backoff with full jitter, never shorter than the network's Retry-After."""
    delay = random.uniform(0, min(cap, base * 2 ** (attempt - 1)))  # noqa: S311 - jitter
    return max(delay, retry_after or 0.0)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry a delivery."""

    max_attempts: int
    base_s: float
    cap_s: float

    def delay_s(self, attempt: int, retry_after: float | None) -> float:
        """How long to wait after failed try number ``attempt`` (see :func:`backoff_s`)."""
        return backoff_s(attempt, base=self.base_s, cap=self.cap_s, retry_after=retry_after)
