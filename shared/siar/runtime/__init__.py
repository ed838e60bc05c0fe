"""The service runtime: settings, MongoDB, Kafka, outbox, auth, telemetry, app factory."""
