"""Rules on identity values, shared by every front end."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

from gamekeeper.core.errors import InvalidInput

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
_SCOPE = re.compile(r"^[a-z][a-z0-9_.:-]{0,63}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
MAX_NAME = 120


def name(value: str, *, field: str = "name") -> str:
    """A display name: 1 to MAX_NAME printable characters (no NUL or other control bytes)."""
    value = value.strip()
    if not value or len(value) > MAX_NAME or not value.isprintable():
        raise InvalidInput(
            f"{field} must be 1 to {MAX_NAME} printable characters", code="invalid_" + field
        )
    return value


def slug(value: str) -> str:
    if not _SLUG.match(value):
        raise InvalidInput(
            "slug must be 1 to 64 lower-case letters, digits and inner hyphens",
            code="invalid_slug",
        )
    return value


def slug_from_name(value: str) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")
    return words[:48].strip("-") or "game"


def http_url(value: str, *, field: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname or len(value) > 2048:
        raise InvalidInput(f"{field} must be an absolute http or https URL", code="invalid_url")
    return value


def origin(value: str) -> str:
    """An origin as browsers send it: scheme://host[:port], nothing else."""
    parts = urlsplit(value)
    if (
        parts.scheme not in {"http", "https"}
        or not parts.hostname
        or parts.path not in {"", "/"}
        or parts.query
        or parts.fragment
        or parts.username
    ):
        raise InvalidInput(
            f"allowed origin {value!r} must look like https://example.com[:port]",
            code="invalid_origin",
        )
    return value.rstrip("/").lower()


def scopes(values: list[str], known: frozenset[str]) -> tuple[str, ...]:
    if not values or len(values) > 32:
        raise InvalidInput("scopes must list 1 to 32 scopes", code="invalid_scopes")
    unknown = sorted(v for v in values if not _SCOPE.match(v) or v not in known)
    if unknown:
        raise InvalidInput(
            f"unknown scopes {unknown}; known scopes are {sorted(known)}", code="invalid_scopes"
        )
    return tuple(dict.fromkeys(values))


def email(value: str) -> str:
    value = value.strip().lower()
    if len(value) > 254 or not _EMAIL.match(value):
        raise InvalidInput("email is not a valid address", code="invalid_email")
    return value


def password(value: str) -> str:
    if not 8 <= len(value) <= 1024:
        raise InvalidInput("password must be 8 to 1024 characters", code="invalid_password")
    return value


def is_uuid(value: str) -> bool:
    """Ids we give are UUIDs in canonical form: anything else is unknown without a lookup
    (and never reaches a query: PostgreSQL refuses NUL in text)."""
    try:
        return len(value) == 36 and str(uuid.UUID(value)) == value
    except ValueError:
        return False
