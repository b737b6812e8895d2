"""OGP users are Gamekeeper developers: the API key is the developer id."""

from __future__ import annotations

import hmac
from datetime import datetime

from gamekeeper.core.audit import Actor
from gamekeeper.core.catalog.errors import SecretMismatch
from gamekeeper.core.catalog.store import CatalogUow
from gamekeeper.core.catalog.types import Profile
from gamekeeper.core.identity import auth, games, hmac_auth
from gamekeeper.core.secrets import SecretBox


async def signature_header(
    uow: CatalogUow,
    *,
    api_key: str,
    secret: str,
    method: str,
    path: str,
    now: datetime,
    box: SecretBox,
    actor: Actor,
) -> str:
    """A ready Authorization value for one request, if ``secret`` is the key's secret.

    A refusal is audited like any failed authentication: this route can be used to guess.
    """
    stored = await games.developer_secret(uow, api_key, box=box) if _uuid_like(api_key) else None
    # Compared in constant time; an unknown key compares against itself so it costs the same.
    expected = (stored or secret).encode()
    if not hmac.compare_digest(expected, secret.encode()) or stored is None:
        await auth.record_auth_failure(
            uow, method="hmac-signature", reason=SecretMismatch.code, actor=actor
        )
        raise SecretMismatch()
    timestamp = str(int(now.timestamp()))
    return hmac_auth.header_value(api_key, secret, method, path, timestamp)


async def get_profile(uow: CatalogUow, developer_id: str) -> Profile:
    """The developer with the outside identities linked to them."""
    developer = await games.get_developer(uow, developer_id)
    return Profile(developer, tuple(await uow.catalog.identities_of(developer_id)))


def _uuid_like(value: str) -> bool:
    return len(value) == 36 and value.count("-") == 4
