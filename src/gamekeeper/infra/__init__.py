"""Adapters to the outside world: storage-backed limits, metrics, logging, senders, pub/sub."""
