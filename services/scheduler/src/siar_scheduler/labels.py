"""Campaign labels: a name and a colour per workspace, attached to posts."""

from __future__ import annotations

import re
import uuid

from pydantic import BaseModel
from pymongo.errors import DuplicateKeyError

from siar_scheduler.errors import LabelExists, LabelNotFound
from siar_scheduler.workflow_store import WorkflowStore

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


class Label(BaseModel):
    """A campaign label."""

    id: str
    name: str
    colour: str


def _key(name: str) -> str:
    # Case- and space-insensitive uniqueness: "Spring Sale" and "spring sale " are one label.
    return " ".join(name.casefold().split())


class LabelService:
    """Create, list, change and delete labels; check labels a post names."""

    def __init__(self, store: WorkflowStore) -> None:
        self.store = store

    async def all(self, workspace_id: str) -> list[Label]:
        """Every label of the workspace, by name."""
        docs = await self.store.list_labels(workspace_id)
        return [Label(id=str(d["_id"]), name=d["name"], colour=d["colour"]) for d in docs]

    async def create(self, workspace_id: str, *, name: str, colour: str) -> Label:
        """A new label; names are unique in a workspace regardless of case."""
        label = Label(id=f"lbl_{uuid.uuid4().hex[:16]}", name=name.strip(), colour=colour.lower())
        try:
            await self.store.insert_label(workspace_id, self._doc(label))
        except DuplicateKeyError as err:
            raise LabelExists(f"a label named {name.strip()!r} already exists") from err
        return label

    async def update(
        self, workspace_id: str, label_id: str, *, name: str | None, colour: str | None
    ) -> Label:
        """Rename or recolour a label."""
        current = {label.id: label for label in await self.all(workspace_id)}.get(label_id)
        if current is None:
            raise LabelNotFound(f"label {label_id} not found")
        label = current.model_copy(
            update={
                "name": name.strip() if name else current.name,
                "colour": colour.lower() if colour else current.colour,
            }
        )
        try:
            await self.store.replace_label(workspace_id, self._doc(label))
        except DuplicateKeyError as err:
            raise LabelExists(f"a label named {label.name!r} already exists") from err
        return label

    async def delete(self, workspace_id: str, label_id: str) -> None:
        """Delete a label and take it off every post."""
        if not await self.store.delete_label(workspace_id, label_id):
            raise LabelNotFound(f"label {label_id} not found")

    async def check(self, workspace_id: str, label_ids: list[str]) -> None:
        """Raise :class:`LabelNotFound` naming the first label that does not exist."""
        if not label_ids:
            return
        known = await self.store.existing_labels(workspace_id, label_ids)
        missing = [i for i in label_ids if i not in known]
        if missing:
            raise LabelNotFound(f"label {missing[0]} not found in this workspace")

    async def ids_by_name(self, workspace_id: str) -> dict[str, str]:
        """Label ids by their normalised name (for CSV import, which names labels)."""
        return {_key(label.name): label.id for label in await self.all(workspace_id)}

    @staticmethod
    def key(name: str) -> str:
        """The normalised form of a label name."""
        return _key(name)

    @staticmethod
    def _doc(label: Label) -> dict[str, str]:
        return {
            "_id": label.id,
            "name": label.name,
            "name_key": _key(label.name),
            "colour": label.colour,
        }
