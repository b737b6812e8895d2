"""The event stores in SQL: the outbox, webhooks and deliveries; the relay's queries."""
