"""Gauges sampled in the background: consumer lag, outbox backlog and readiness.

Counters are bumped where things happen; these are states, so one loop per service
reads them every few seconds and Prometheus scrapes the latest values.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client import Gauge
from pymongo.asynchronous.collection import AsyncCollection

from siar.runtime.mongo import Document

log = logging.getLogger(__name__)

CONSUMER_LAG = Gauge(
    "siar_kafka_consumer_lag",
    "Records on a partition not yet committed by the group (end offset minus committed).",
    ["service", "topic", "partition", "group"],
)
OUTBOX_PENDING = Gauge(
    "siar_outbox_pending", "Outbox events written but not yet relayed to Kafka.", ["service"]
)
SERVICE_READY = Gauge(
    "siar_service_ready",
    "1 when the service's /readyz passes (MongoDB and Kafka reachable).",
    ["service"],
)


async def partition_lag(consumer: AIOKafkaConsumer) -> dict[TopicPartition, int]:
    """Lag of every partition assigned to ``consumer``: end offset minus committed offset.

    A partition with no commit yet counts from its beginning offset. Never negative:
    Tansu's memory storage moves end offsets per record batch (docs/embedded-stack.md),
    so there the figure is a lower bound; on Kafka it is exact.
    """
    assigned = sorted(consumer.assignment())
    if not assigned:
        return {}
    ends = await consumer.end_offsets(assigned)
    starts = await consumer.beginning_offsets(assigned)
    lag: dict[TopicPartition, int] = {}
    for tp in assigned:
        committed = await consumer.committed(tp)
        done = committed if committed is not None else starts.get(tp, 0)
        lag[tp] = max(0, int(ends.get(tp, 0)) - int(done))
    return lag


class OpsSampler:
    """Refreshes the gauges of one service every ``every_s`` seconds until stopped."""

    def __init__(
        self,
        *,
        service: str,
        group: str,
        consumers: Callable[[], Iterable[Any]],
        outbox: AsyncCollection[Document],
        ready: Callable[[], Awaitable[bool]],
        every_s: float = 5.0,
    ) -> None:
        self.service = service
        self.group = group
        self.consumers = consumers
        self.outbox = outbox
        self.ready = ready
        self.every_s = every_s
        self._stopping = asyncio.Event()
        self._lag_labels: set[tuple[str, str]] = set()
        SERVICE_READY.labels(service).set(0)

    async def sample_once(self) -> None:
        """Read readiness, the outbox backlog and consumer lag once (each on its own)."""
        SERVICE_READY.labels(self.service).set(1 if await self.ready() else 0)
        try:
            pending = await self.outbox.count_documents({"published": False})
            OUTBOX_PENDING.labels(self.service).set(pending)
        except Exception as err:  # MongoDB away: readiness says so; keep the last value
            log.debug("outbox backlog not sampled: %s", err)
        try:
            await self._sample_lag()
        except Exception as err:  # Kafka away or rebalancing: try again next round
            log.debug("consumer lag not sampled: %s", err)

    async def _sample_lag(self) -> None:
        seen: set[tuple[str, str]] = set()
        for consumer in self.consumers():
            if not isinstance(consumer, AIOKafkaConsumer):
                continue
            for tp, lag in (await partition_lag(consumer)).items():
                labels = (tp.topic, str(tp.partition))
                CONSUMER_LAG.labels(self.service, *labels, self.group).set(lag)
                seen.add(labels)
        # Partitions moved to another replica are no longer ours to report.
        for topic, partition in self._lag_labels - seen:
            with contextlib.suppress(KeyError):
                CONSUMER_LAG.remove(self.service, topic, partition, self.group)
        self._lag_labels = seen

    async def run(self) -> None:
        """Sample until stopped."""
        while not self._stopping.is_set():
            try:
                await self.sample_once()
            except Exception:
                log.exception("sampling operational gauges failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.every_s)

    def stop(self) -> None:
        """Stop after the current round."""
        self._stopping.set()
