"""orgRewardsSplit: who shares a game's creator rewards, in basis points (10000 = 100 %).

Keys name people: an OGP user id (a developer id here), ``did:privy:…``, ``sol:``/``solana:``
plus a base58 address, ``eth:``/``ethereum:`` plus ``0x`` and 40 hex digits, ``email:`` plus an
address, ``twitter:`` plus a handle. Outside identities nobody has claimed yet get a placeholder
developer, so every stored key is a developer id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gamekeeper.core.audit import Actor
from gamekeeper.core.catalog.errors import (
    SplitIdentifierInvalid,
    SplitInvalid,
    SplitSumTooHigh,
    SplitSumTooLow,
    SplitUserUnknown,
    SplitValueNotInteger,
    SplitValueNotPositive,
)
from gamekeeper.core.catalog.events import CatalogChanged
from gamekeeper.core.catalog.store import CatalogUow
from gamekeeper.core.catalog.types import TOTAL_BPS, IdentityKind
from gamekeeper.core.identity import games
from gamekeeper.core.secrets import SecretBox

MAX_ENTRIES = 100
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_PATTERNS: dict[IdentityKind, re.Pattern[str]] = {
    IdentityKind.PRIVY: re.compile(r"^did:privy:[A-Za-z0-9_-]{1,128}$"),
    IdentityKind.SOLANA: re.compile(r"^[1-9A-HJ-NP-Za-km-z]{32,44}$"),
    IdentityKind.ETHEREUM: re.compile(r"^0x[0-9a-fA-F]{40}$"),
    IdentityKind.EMAIL: re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$"),
    IdentityKind.TWITTER: re.compile(r"^@?[A-Za-z0-9_]{1,15}$"),
}
_PREFIXES = {
    "sol:": IdentityKind.SOLANA,
    "solana:": IdentityKind.SOLANA,
    "eth:": IdentityKind.ETHEREUM,
    "ethereum:": IdentityKind.ETHEREUM,
    "email:": IdentityKind.EMAIL,
    "twitter:": IdentityKind.TWITTER,
}
_FORMATS = (
    "a user id, did:privy:…, sol:<address>, eth:0x<40 hex>, email:<address> or twitter:<handle>"
)


@dataclass(frozen=True, slots=True)
class Identifier:
    """A split key, parsed: a developer id (``kind`` None) or a normalised outside identity."""

    kind: IdentityKind | None
    value: str


def parse_identifier(key: str) -> Identifier:
    """Parse and normalise one split key; SplitIdentifierInvalid if it fits no format."""
    text = key.strip()
    if _UUID.match(text):
        return Identifier(None, text.lower())
    kind, value = None, text
    if text.lower().startswith("did:privy:"):
        kind = IdentityKind.PRIVY
    else:
        prefix, colon, rest = text.partition(":")
        kind = _PREFIXES.get(prefix.lower() + colon)
        value = rest.strip()
    if kind is None or len(value) > 254 or not _PATTERNS[kind].match(value):
        raise SplitIdentifierInvalid(
            f"orgRewardsSplit: {key[:80]!r} is not a valid identifier; use {_FORMATS}"
        )
    if kind in {IdentityKind.ETHEREUM, IdentityKind.EMAIL, IdentityKind.TWITTER}:
        value = value.lower().removeprefix("@")
    return Identifier(kind, value)


def check_split(raw: Mapping[str, Any]) -> dict[Identifier, int]:
    """Apply the split rules in order: identifiers, whole positive numbers, a 10000 total."""
    if not isinstance(raw, Mapping):
        raise SplitInvalid()
    if len(raw) > MAX_ENTRIES:
        raise SplitInvalid(f"orgRewardsSplit may name at most {MAX_ENTRIES} recipients")
    parsed: dict[Identifier, int] = {}
    for key, value in raw.items():
        identifier = parse_identifier(str(key))
        if isinstance(value, bool) or not isinstance(value, int):
            raise SplitValueNotInteger(
                f"orgRewardsSplit values must be whole numbers of basis points; "
                f"{str(key)[:80]!r} has {str(value)[:40]!r}"
            )
        if value <= 0:
            raise SplitValueNotPositive(
                f"orgRewardsSplit values must be greater than 0; {str(key)[:80]!r} has {value}"
            )
        # Two spellings of one identity (eth:0xAB…, ethereum:0xab…) count as one recipient.
        parsed[identifier] = parsed.get(identifier, 0) + value
    total = sum(parsed.values())
    if total < TOTAL_BPS:
        raise SplitSumTooLow(
            f"orgRewardsSplit must total exactly {TOTAL_BPS} basis points; "
            f"it totals {total}, {TOTAL_BPS - total} short"
        )
    if total > TOTAL_BPS:
        raise SplitSumTooHigh(
            f"orgRewardsSplit must total exactly {TOTAL_BPS} basis points; "
            f"it totals {total}, {total - TOTAL_BPS} too many"
        )
    return parsed


async def resolve_split(
    uow: CatalogUow,
    raw: Mapping[str, Any] | None,
    *,
    caller_id: str,
    validated: bool,
    box: SecretBox,
    actor: Actor,
) -> dict[str, int]:
    """The split to store, keyed by developer id.

    Empty or absent: all to the caller. A game whose ownership is not validated pays its
    creator rewards to the caller alone, whatever the request asks, though the request is
    still checked. Unknown outside identities become placeholder developers only when the
    split is stored.
    """
    parsed = check_split(raw) if raw else {}
    users = [i.value for i in parsed if i.kind is None]
    known = await uow.catalog.existing_developers(users)
    for user in users:
        if user not in known:
            raise SplitUserUnknown(f"orgRewardsSplit: there is no user with id {user!r}")
    if not parsed or not validated:
        return {caller_id: TOTAL_BPS}
    split: dict[str, int] = {}
    for identifier, bps in parsed.items():
        developer_id = await _developer_for(uow, identifier, box=box, actor=actor)
        split[developer_id] = split.get(developer_id, 0) + bps
    return split


async def _developer_for(
    uow: CatalogUow, identifier: Identifier, *, box: SecretBox, actor: Actor
) -> str:
    if identifier.kind is None:
        return identifier.value
    found = await uow.catalog.find_identity(identifier.kind, identifier.value)
    if found is not None:
        return found
    # A placeholder: a developer nobody holds the secret of, until the identity is claimed.
    email = identifier.value if identifier.kind == IdentityKind.EMAIL else None
    developer, _secret = await games.create_developer(
        uow,
        name=f"{identifier.kind.value}:{identifier.value}"[:120],
        email=email,
        box=box,
        actor=actor,
    )
    uow.emit(CatalogChanged())
    return await uow.catalog.add_identity(
        identifier.kind, identifier.value, developer_id=developer.id, at=uow.now()
    )
