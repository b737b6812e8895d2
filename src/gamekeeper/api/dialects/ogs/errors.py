"""OGS error envelope: the default one, ``{"error": {"code", "message", "status"}}``."""

from __future__ import annotations

from gamekeeper.api.errors import default_envelope as render

__all__ = ["render"]
