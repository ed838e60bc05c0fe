"""Kafka wiring: the FastStream router every service uses, dead-lettering, publishing."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any, Union

from aiokafka import ConsumerRecord
from aiokafka.errors import KafkaError
from fastapi.exceptions import RequestValidationError
from faststream import AckPolicy, BaseMiddleware
from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.message import StreamMessage
from opentelemetry.trace import TracerProvider
from prometheus_client import CollectorRegistry, Counter
from pydantic import Field, ValidationError
from pymongo.errors import ConnectionFailure

from siar.contracts import DeadLetter, Event, utcnow
from siar.contracts.deadletter import dlq_topic
from siar.runtime import consumption
from siar.runtime.errors import DependencyUnavailable
from siar.runtime.outbox import Publish
from siar.runtime.settings import ServiceSettings

log = logging.getLogger(__name__)

MALFORMED: tuple[type[BaseException], ...] = (
    ValidationError,
    RequestValidationError,
    json.JSONDecodeError,
    UnicodeDecodeError,
)
"""A message that fails with one of these can never succeed: dead-letter it at once."""

INFRASTRUCTURE: tuple[type[BaseException], ...] = (
    ConnectionFailure,
    KafkaError,
    OSError,
    DependencyUnavailable,
)
"""Our own dependencies being away: redeliver later rather than dead-letter."""

DEAD_LETTERS = Counter(
    "siar_dead_letters",
    "Messages sent to a dead-letter topic, by source topic and error type.",
    ["topic", "error_type"],
)
MESSAGES_CONSUMED = Counter(
    "siar_kafka_messages_consumed",
    "Kafka messages handled, by outcome: ok, duplicate (already processed), "
    "dead_lettered, retried (one per retry attempt, including redelivery after a "
    "dependency outage).",
    ["service", "topic", "outcome"],
)
CONSUME_OUTCOMES = ("ok", "retried", "dead_lettered", "duplicate")


async def dead_letter(
    broker: KafkaBroker,
    record: ConsumerRecord[bytes, bytes],
    err: BaseException,
    *,
    group: str | None,
    attempts: int,
) -> None:
    """Publish ``record`` to its topic's ``.dlq`` with why it failed, and count it."""
    letter = DeadLetter(
        source_topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        consumer_group=group,
        error_type=type(err).__name__,
        error=str(err)[:4000],
        payload=(record.value or b"").decode("utf-8", errors="replace"),
        failed_at=utcnow(),
        attempts=attempts,
    )
    log.warning(
        "dead-lettering %s[%s]@%s: %s: %s",
        record.topic,
        record.partition,
        record.offset,
        letter.error_type,
        letter.error[:500],
        exc_info=err,
    )
    await broker.publish(
        letter.model_dump_json().encode(),
        topic=dlq_topic(record.topic),
        key=record.key,
        headers={"content-type": "application/json"},
    )
    DEAD_LETTERS.labels(topic=record.topic, error_type=letter.error_type).inc()


def dead_letter_middleware(
    get_broker: Callable[[], KafkaBroker],
    *,
    group: str,
    service: str = "",
    max_attempts: int = 3,
    base_delay_s: float = 0.2,
) -> type[BaseMiddleware]:
    """Middleware that retries a failing handler, then dead-letters what cannot succeed.

    It also counts every message's outcome in ``siar_kafka_messages_consumed_total``.
    """

    def count(msg: StreamMessage[Any], outcome: str) -> None:
        record = msg.raw_message
        topic = record.topic if isinstance(record, ConsumerRecord) else "unknown"
        MESSAGES_CONSUMED.labels(service, topic, outcome).inc()

    class DeadLetterMiddleware(BaseMiddleware):
        async def consume_scope(self, call_next: Any, msg: StreamMessage[Any]) -> Any:
            attempt = 0
            while True:
                attempt += 1
                state = consumption.begin()
                try:
                    result = await call_next(msg)
                except MALFORMED as err:
                    await self._dead_letter(msg, err, attempt)
                    count(msg, "dead_lettered")
                    return None
                except Exception as err:
                    if attempt < max_attempts:
                        count(msg, "retried")
                        delay = base_delay_s * 2 ** (attempt - 1)
                        await asyncio.sleep(delay * (0.5 + random.random()))  # noqa: S311
                        continue
                    if isinstance(err, INFRASTRUCTURE):
                        count(msg, "retried")
                        raise  # not committed: the broker redelivers it
                    await self._dead_letter(msg, err, attempt)
                    count(msg, "dead_lettered")
                    return None
                count(msg, "duplicate" if state.duplicate else "ok")
                return result

        async def _dead_letter(self, msg: StreamMessage[Any], err: BaseException, n: int) -> None:
            record = msg.raw_message
            if not isinstance(record, ConsumerRecord):
                raise err
            await dead_letter(get_broker(), record, err, group=group, attempts=n)

    return DeadLetterMiddleware


def create_kafka_broker(
    settings: ServiceSettings,
    *,
    service: str,
    tracer_provider: TracerProvider,
    registry: CollectorRegistry,
) -> KafkaBroker:
    """The FastStream broker of a service; its FastAPI app starts and stops it."""
    holder: list[KafkaBroker] = []
    broker = KafkaBroker(
        settings.platform.kafka_bootstrap,
        acks="all",
        enable_idempotence=settings.platform.kafka_idempotent_producer,
        graceful_timeout=settings.graceful_timeout_s,
        client_id=f"siar-{service}",
        middlewares=(
            KafkaTelemetryMiddleware(tracer_provider=tracer_provider),
            KafkaPrometheusMiddleware(registry=registry, app_name=service, metrics_prefix="siar"),
            dead_letter_middleware(
                lambda: holder[0], group=settings.consumer_group, service=service
            ),
        ),
        logger=logging.getLogger(f"siar.{service}.kafka"),
    )
    holder.append(broker)
    return broker


def subscriber_options(settings: ServiceSettings) -> dict[str, Any]:
    """Options for every subscriber: commit only after the handler's work is durable."""
    return {
        "group_id": settings.consumer_group,
        "ack_policy": AckPolicy.NACK_ON_ERROR,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": 6000,
        "heartbeat_interval_ms": 1500,
    }


EventHandler = Callable[[Any], Awaitable[None]]


def subscribe_events(
    broker: KafkaBroker,
    settings: ServiceSettings,
    handlers: Mapping[type[Event], EventHandler],
    *,
    name: str,
) -> None:
    """One consumer for all of a service's topics, dispatching on ``event_type``.

    A single group member per service joins the group once (each join costs the
    broker's rebalance delay), and the payload is a discriminated union, so the
    AsyncAPI document still names every event consumed.
    """
    models = tuple(handlers)
    payload: Any = (
        models[0]
        if len(models) == 1
        else Annotated[Union[models], Field(discriminator="event_type")]  # noqa: UP007
    )

    async def on_event(event: Any) -> None:
        await handlers[type(event)](event)

    on_event.__annotations__ = {"event": payload, "return": None}
    on_event.__name__ = on_event.__qualname__ = name
    broker.subscriber(*(m.topic for m in models), **subscriber_options(settings))(on_event)


def kafka_publisher(broker_getter: Callable[[], KafkaBroker]) -> Publish:
    """A :class:`siar.runtime.outbox.Publish` sending through the service's broker."""

    async def publish(
        *, topic: str, payload: bytes, key: bytes, headers: dict[str, str]
    ) -> Awaitable[Any]:
        return await broker_getter().publish(
            payload,
            topic=topic,
            key=key,
            headers={**headers, "content-type": "application/json"},
            no_confirm=True,
        )

    return publish


def document_publications(broker: KafkaBroker, *events: type[Event]) -> None:
    """Declare the topics a service publishes (through its outbox) in its AsyncAPI."""
    for event in events:
        broker.publisher(
            event.topic,
            title=f"{event.topic}:publish",
            description=(event.__doc__ or "").strip().splitlines()[0],
            schema=event,
        )
