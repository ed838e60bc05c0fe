"""The ``metrics.collected`` consumer: snapshots stored in batches, one transaction each.

Snapshots are many and small (every account hourly, every recent post with it), and
the embedded MongoDB costs a couple of milliseconds per write, so this topic has a
batch subscriber of its own (consumer group ``<group>-metrics``): up to
``metrics_batch`` records are validated one by one, the malformed ones dead-lettered
individually, and the rest stored with their roll-ups in one transaction
(:meth:`MetricsIngest.store_batch`), each touched roll-up document read and written
once. The snapshot's ``_id`` is its event id, so a redelivered batch stores nothing
twice; the offsets are committed only after the transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from aiokafka import ConsumerRecord
from faststream import Context
from faststream.kafka import KafkaBroker
from faststream.message import StreamMessage
from pydantic import ValidationError

from siar.contracts import MetricsCollected
from siar.runtime.kafka import dead_letter, subscriber_options
from siar_analytics.metrics_ingest import MetricsIngest
from siar_analytics.settings import Settings


async def raw_bodies(msg: StreamMessage[Any]) -> list[bytes]:
    """Leave each record's bytes as they are: each is validated (or dead-lettered) alone."""
    return [bytes(record.value or b"") for record in records_of(msg)]


def records_of(msg: StreamMessage[Any]) -> list[ConsumerRecord[bytes, bytes]]:
    """The Kafka records of a batch message."""
    raw = msg.raw_message
    return list(raw) if isinstance(raw, tuple | list) else [raw]


def subscribe_metrics(
    broker: KafkaBroker, settings: Settings, ingest: Callable[[], MetricsIngest]
) -> None:
    """Consume ``metrics.collected`` in batches into the series store."""
    group = f"{settings.consumer_group}-metrics"
    options = {**subscriber_options(settings), "group_id": group}

    async def metrics_batches(
        bodies: list[bytes], message: Annotated[StreamMessage[Any], Context("message")]
    ) -> None:
        events: list[MetricsCollected] = []
        records = records_of(message)
        for body, record in zip(bodies, records, strict=True):
            try:
                events.append(MetricsCollected.model_validate_json(body))
            except ValidationError as err:
                await dead_letter(broker, record, err, group=group, attempts=1)
        if events:
            await ingest().store_batch(events)

    broker.subscriber(
        MetricsCollected.topic,
        batch=True,
        max_records=settings.metrics_batch,
        batch_timeout_ms=200,
        decoder=raw_bodies,
        title="metrics.collected:batches",
        description="Metric snapshots (MetricsCollected), stored with their roll-ups.",
        **options,
    )(metrics_batches)
