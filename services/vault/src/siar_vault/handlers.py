"""The vault's Kafka side: it consumes nothing yet and publishes account events."""

from __future__ import annotations

from faststream.kafka import KafkaBroker

from siar.contracts import AccountConnected, AccountDisconnected
from siar.runtime.kafka import document_publications


def register_handlers(broker: KafkaBroker) -> None:
    """Declare what the vault publishes (through its outbox)."""
    document_publications(broker, AccountConnected, AccountDisconnected)
