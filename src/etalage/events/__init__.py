"""Interaction events: ingest, the append-only log (embedded SQLite or NATS JetStream) and its consumers."""
