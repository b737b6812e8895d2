"""OGP users are Gamekeeper developers: the API key is the developer id."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from gamekeeper.core.audit import Actor
from gamekeeper.core.catalog.errors import SecretMismatch
from gamekeeper.core.catalog.store import CatalogUow
from gamekeeper.core.catalog.types import IdentityKind, Profile
from gamekeeper.core.identity import auth, games, hmac_auth
from gamekeeper.core.secrets import SecretBox, constant_time_equal

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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
    if not constant_time_equal(stored or secret, secret) or stored is None:
        await auth.record_auth_failure(
            uow, method="hmac-signature", reason=SecretMismatch.code, actor=actor
        )
        raise SecretMismatch()
    # Milliseconds: two requests to one path in the same second get distinct signatures.
    timestamp = str((now - _EPOCH) // timedelta(milliseconds=1))
    return hmac_auth.header_value(api_key, secret, method, path, timestamp)


async def get_profile(uow: CatalogUow, developer_id: str) -> Profile:
    """The developer with the outside identities linked to them."""
    developer = await games.get_developer(uow, developer_id)
    return Profile(developer, tuple(await uow.catalog.identities_of(developer_id)))


async def get_user(uow: CatalogUow, *, user_id: str, viewer_id: str) -> Profile:
    """A user as another developer sees them: their email only if they are the viewer.

    Wallets, Privy and Twitter ids are public in a rewards split already; an email is not.
    """
    profile = await get_profile(uow, user_id)
    if user_id == viewer_id:
        return profile
    public = tuple(pair for pair in profile.identities if pair[0] != IdentityKind.EMAIL)
    return Profile(replace(profile.developer, email=None), public)


def _uuid_like(value: str) -> bool:
    return len(value) == 36 and value.count("-") == 4
