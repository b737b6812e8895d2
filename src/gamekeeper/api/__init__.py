"""The HTTP and WebSocket front end: app factory, guards, middleware and dialects."""
