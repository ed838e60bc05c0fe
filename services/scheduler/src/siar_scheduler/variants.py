"""Per-network variants of a post, checked against each target network's rules (pure).

A variant changes what one network gets: its own caption, format, title, first
comment and, for the thread format, the thread's further parts. Each target network is
checked on what it will really receive (the variant's caption, else the post's text; the
variant's format, else a feed post; each thread part), through the same
``siar.connectors.validation`` the composer's live checks mirror.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from siar.connectors import Connector, MediaItem
from siar.connectors.rules import PostFormat
from siar.connectors.validation import Draft, validate
from siar_scheduler.domain import PostVariant, Target

Violations = list[dict[str, str]]
MAX_VARIANTS = 20
MAX_THREAD_PARTS = 25
"""The most parts after the caption a request may carry; the network's own limit
(``max_thread_parts``) is checked with its other rules."""

ThreadPart = Annotated[str, Field(min_length=1, max_length=20_000)]


class VariantIn(BaseModel):
    """What one network gets instead of the post's defaults; every field is optional."""

    model_config = ConfigDict(extra="forbid")
    text: str | None = Field(
        default=None, min_length=1, max_length=20_000, description="Own caption."
    )
    first_comment: str | None = Field(default=None, min_length=1, max_length=20_000)
    format: PostFormat | None = Field(
        default=None, description="One of the network's formats (GET /v1/networks); feed if unset."
    )
    title: str | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="Only where the network has titles (max_title_chars in GET /v1/networks).",
    )
    thread: list[ThreadPart] = Field(
        default_factory=list,
        max_length=MAX_THREAD_PARTS,
        description="The thread's parts after the caption, in order; only with format "
        "thread, on networks that offer it (max_thread_parts in GET /v1/networks).",
    )

    def stored(self) -> PostVariant:
        """As kept on the post."""
        return PostVariant.model_validate(self.model_dump(mode="json"))


Variants = dict[str, VariantIn]
_VARIANTS = TypeAdapter(Variants)


def stored_variants(variants: Variants | None) -> dict[str, PostVariant] | None:
    """The variants as kept on the post (None stays None: nothing to change)."""
    if variants is None:
        return None
    return {network: variant.stored() for network, variant in variants.items()}


def variants_from_json(raw: str) -> dict[str, PostVariant]:
    """A CSV cell's JSON object of variants; ValueError saying what is wrong."""
    if not raw.strip():
        return {}
    try:
        parsed = _VARIANTS.validate_json(raw)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the cell"
        raise ValueError(f"variants: {where}: {first['msg']}") from err
    if len(parsed) > MAX_VARIANTS:
        raise ValueError(f"variants: at most {MAX_VARIANTS} networks")
    return stored_variants(parsed) or {}


def variants_to_json(variants: Mapping[str, PostVariant]) -> str:
    """The variants as a CSV cell (unset fields left out); empty when there are none."""
    if not variants:
        return ""
    shown = {n: v.model_dump(exclude_none=True, exclude_defaults=True) for n, v in variants.items()}
    return json.dumps(shown, ensure_ascii=False, separators=(",", ":"))


def draft_for(
    text: str, media: Sequence[MediaItem], variant: PostVariant | None
) -> Draft | dict[str, str]:
    """What one network is sent, as the rules see it; a violation for an unknown format."""
    if variant is None:
        return Draft(text=text, media=tuple(media))
    try:
        fmt = PostFormat(variant.format or PostFormat.FEED)
    except ValueError:
        formats = ", ".join(f.value for f in PostFormat)
        return {"rule": "format", "message": f"format {variant.format!r} is not one of {formats}"}
    return Draft(
        text=variant.text or text,
        media=tuple(media),
        format=fmt,
        title=variant.title,
        first_comment=variant.first_comment,
        thread=tuple(variant.thread),
    )


def _foreign_keys(targets: Sequence[Target], variants: Mapping[str, PostVariant]) -> Violations:
    networks = list(dict.fromkeys(t.network for t in targets))
    return [
        {
            "network": network,
            "rule": "variant.not_a_target",
            "message": f"there is a {network} variant but no {network} account among the "
            f"post's targets ({', '.join(networks)})",
        }
        for network in variants
        if network not in networks
    ]


def rule_violations(
    connectors: Mapping[str, Connector],
    text: str,
    targets: Sequence[Target],
    media: Sequence[MediaItem] = (),
    variants: Mapping[str, PostVariant] | None = None,
) -> Violations:
    """Every rule of every target network the post (with its variants) breaks, by network."""
    variants = variants or {}
    found = _foreign_keys(targets, variants)
    for network in dict.fromkeys(t.network for t in targets):
        draft = draft_for(text, media, variants.get(network))
        if isinstance(draft, dict):
            found.append({"network": network, **draft})
            continue
        connector = connectors.get(network)
        if connector is not None:
            found += [
                {"network": v.network, "rule": v.rule, "message": v.message}
                for v in validate(connector, draft)
            ]
    return found
