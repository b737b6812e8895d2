"""Events: domain events dispatched after commit, and the outbox that carries events out."""
