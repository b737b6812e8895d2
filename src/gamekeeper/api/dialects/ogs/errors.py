"""OGS error envelope: the default one, ``{"error": {"code", "message", "status"}}``."""

from __future__ import annotations

from gamekeeper.api.errors import default_envelope as render
from gamekeeper.api.notfound import PathEnvelope

__all__ = ["ENVELOPE", "render"]

ENVELOPE = PathEnvelope(("/api/v1",), render)
