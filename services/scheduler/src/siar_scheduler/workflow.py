"""The scheduler's workflow wired together: settings, labels, approvals, calendar, CSV, failures."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from siar_scheduler.approvals import ApprovalService
from siar_scheduler.calendar_ops import CalendarService
from siar_scheduler.csv_io import CsvImporter
from siar_scheduler.errors import NotAllowed
from siar_scheduler.failures import FailureNotifier, resume_retries
from siar_scheduler.labels import LabelService
from siar_scheduler.service import SchedulerService
from siar_scheduler.workflow_store import WorkflowStore
from siar_scheduler.workspace_settings import SettingsService, sealing_key


@dataclass
class Workflow:
    """Everything beyond one post's life that the workflow routes call."""

    posts: SchedulerService
    store: WorkflowStore
    settings: SettingsService
    labels: LabelService
    approvals: ApprovalService
    calendar: CalendarService
    importer: CsvImporter
    notifier: FailureNotifier

    @classmethod
    def wire(
        cls,
        posts: SchedulerService,
        store: WorkflowStore,
        http: httpx.AsyncClient,
        *,
        service_secret: str,
    ) -> Workflow:
        """Build the workflow on ``posts`` and hook its checks into post creation and outcomes."""
        settings = SettingsService(store, sealing_key(service_secret))
        labels = LabelService(store)
        notifier = FailureNotifier(store, settings, http)
        posts.check_labels = labels.check
        posts.on_failed = notifier.record
        notifier.resume = lambda: resume_retries(posts)

        async def after_failed() -> None:
            notifier.wake()

        posts.after_failed = after_failed
        return cls(
            posts=posts,
            store=store,
            settings=settings,
            labels=labels,
            approvals=ApprovalService(posts),
            calendar=CalendarService(posts, store),
            importer=CsvImporter(posts, store, labels),
            notifier=notifier,
        )

    async def may_schedule(self, workspace_id: str, *, can_publish: bool, can_write: bool) -> bool:
        """Whether a caller may schedule directly rather than ask for approval.

        Holders of ``posts.publish`` always may; contributors (``posts.write`` only) may
        unless the workspace requires approval of their posts.
        """
        if can_publish:
            return True
        return can_write and not (await self.settings.get(workspace_id)).approvals_required

    async def require_scheduling(
        self, workspace_id: str, *, can_publish: bool, can_write: bool
    ) -> None:
        """Refuse a caller who must ask for approval instead of scheduling."""
        if not await self.may_schedule(workspace_id, can_publish=can_publish, can_write=can_write):
            raise NotAllowed(
                "this workspace requires approval of your posts: create a draft "
                '("draft": true) with its time and submit it (POST …/posts/{id}:submit)'
            )
