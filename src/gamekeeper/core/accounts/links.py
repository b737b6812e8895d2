"""Account links: a game asks to link one of its users; the player confirms on the link page.

One player per game user, one game user per player and game. A link token belongs to the game
that asked for it, works once, and redirects only to one of that game's allowed origins.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlsplit

from gamekeeper.core import audit, validate
from gamekeeper.core.accounts.errors import (
    GameUserLinkedElsewhere,
    LinkNotFound,
    LinkTokenExpired,
    LinkTokenNotFound,
    LinkTokenUsed,
    PlayerLinkedElsewhere,
    RedirectNotAllowed,
)
from gamekeeper.core.accounts.events import AccountLinked, AccountUnlinked
from gamekeeper.core.accounts.store import AccountsUow
from gamekeeper.core.accounts.types import (
    AccountContext,
    AccountLink,
    IssuedLinkToken,
    LinkCheck,
    LinkRequest,
    LinkStatus,
    LinkTokenRecord,
)
from gamekeeper.core.audit import Actor
from gamekeeper.core.errors import InvalidInput
from gamekeeper.core.events.outbox import record_event
from gamekeeper.core.identity.errors import GameNotFound
from gamekeeper.core.identity.players import get_player
from gamekeeper.core.owners.types import Owner
from gamekeeper.core.secrets import hash_secret, new_token

MAX_GAME_USER_ID = 255
MAX_TOKEN = 256  # longer than any token we issue: refused without a lookup


def _request(record: LinkTokenRecord) -> LinkRequest:
    return LinkRequest(
        token_id=record.id,
        game_id=record.game_id,
        game_name=record.game_name,
        game_user_id=record.game_user_id,
        redirect_url=record.redirect_url,
        status=record.status,
        expires_at=record.expires_at,
        player_id=record.player_id,
        linked_at=record.decided_at if record.status == "linked" else None,
    )


def _redirect(url: str, allowed: tuple[str, ...]) -> str:
    validate.http_url(url, field="redirectUrl")
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        raise RedirectNotAllowed()
    if f"{parts.scheme}://{parts.netloc}".lower() not in allowed:
        raise RedirectNotAllowed()
    return url


async def create_link_token(
    uow: AccountsUow,
    *,
    game_id: str,
    game_user_id: str,
    redirect_url: str,
    ctx: AccountContext,
) -> IssuedLinkToken:
    """A link token for one of the game's users; the player answers it on the link page."""
    game = await uow.identity.get_game(game_id)
    if game is None:
        raise GameNotFound()
    game_user_id = game_user_id.strip()
    if not game_user_id or len(game_user_id) > MAX_GAME_USER_ID:
        raise InvalidInput(
            f"gameUserId must be 1 to {MAX_GAME_USER_ID} characters", code="invalid_game_user_id"
        )
    now = uow.now()
    token = new_token()
    record = LinkTokenRecord(
        id=str(uuid.uuid4()),
        game_id=game.id,
        game_name=game.name,
        game_user_id=game_user_id,
        redirect_url=_redirect(redirect_url, game.allowed_origins),
        status="pending",
        player_id=None,
        created_at=now,
        expires_at=now + timedelta(seconds=ctx.policy.link_ttl),
        decided_at=None,
    )
    await uow.accounts.add_link_token(record, token_hash=hash_secret(token))
    return IssuedLinkToken(token=token, request=_request(record))


async def _pending(uow: AccountsUow, token: str) -> LinkTokenRecord:
    record = None
    if 0 < len(token) <= MAX_TOKEN:
        record = await uow.accounts.find_link_token(hash_secret(token))
    if record is None:
        raise LinkTokenNotFound()
    if record.status != "pending":
        raise LinkTokenUsed()
    if record.expires_at <= uow.now():
        raise LinkTokenExpired()
    return record


async def describe_link(uow: AccountsUow, *, token: str) -> LinkRequest:
    """The pending request behind a token, for the link page to show."""
    return _request(await _pending(uow, token))


async def _decide(
    uow: AccountsUow, record: LinkTokenRecord, status: LinkStatus, player_id: str
) -> LinkRequest:
    now = uow.now()
    if not await uow.accounts.decide_link_token(
        record.id, status=status, player_id=player_id, at=now
    ):
        raise LinkTokenUsed()  # a concurrent answer came first
    return _request(replace(record, status=status, player_id=player_id, decided_at=now))


async def confirm_link(
    uow: AccountsUow, *, token: str, player_id: str, actor: Actor
) -> LinkRequest:
    """Link the token's game user to the player; linking the same pair again changes nothing."""
    record = await _pending(uow, token)
    await get_player(uow, player_id)
    existing = await uow.accounts.find_link(record.game_id, record.game_user_id)
    if existing is not None and existing.player_id != player_id:
        raise GameUserLinkedElsewhere()
    if existing is None:
        if await uow.accounts.link_of_player(record.game_id, player_id) is not None:
            raise PlayerLinkedElsewhere()
        link = AccountLink(
            id=str(uuid.uuid4()),
            game_id=record.game_id,
            game_name=record.game_name,
            game_user_id=record.game_user_id,
            player_id=player_id,
            linked_at=uow.now(),
        )
        await uow.accounts.add_link(link)
        await record_event(
            uow,
            "account.linked",
            AccountLinked(game_user_id=link.game_user_id, ogs_user_id=player_id),
            owner=Owner.game(link.game_id),
            aggregate_id=link.id,
        )
    request = await _decide(uow, record, "linked", player_id)
    await audit.record(
        uow,
        "account.linked",
        actor=actor,
        target_type="player",
        target_id=player_id,
        game_id=record.game_id,
    )
    return request


async def decline_link(
    uow: AccountsUow, *, token: str, player_id: str, actor: Actor
) -> LinkRequest:
    """The player refuses the link; the token is spent."""
    record = await _pending(uow, token)
    request = await _decide(uow, record, "declined", player_id)
    await audit.record(
        uow,
        "account.link_declined",
        actor=actor,
        target_type="player",
        target_id=player_id,
        game_id=record.game_id,
    )
    return request


async def check_link_token(uow: AccountsUow, *, token: str, game_id: str) -> LinkCheck:
    """What the game that asked for the token may learn of it; other games learn nothing."""
    record = None
    if 0 < len(token) <= MAX_TOKEN:
        record = await uow.accounts.find_link_token(hash_secret(token))
    if record is None or record.game_id != game_id or record.expires_at <= uow.now():
        return LinkCheck(valid=False)
    if record.status != "linked" or record.player_id is None:
        return LinkCheck(valid=True, status=record.status)
    link = await uow.accounts.find_link(record.game_id, record.game_user_id)
    if link is None or link.player_id != record.player_id:
        return LinkCheck(valid=True, status="unlinked")
    player = await get_player(uow, record.player_id)
    return LinkCheck(
        valid=True,
        status="linked",
        player_id=player.id,
        email=player.email if player.verified else None,
        linked_at=link.linked_at,
    )


async def list_links(uow: AccountsUow, *, player_id: str) -> list[AccountLink]:
    """The player's links, oldest first."""
    return await uow.accounts.list_links(player_id)


async def remove_link(uow: AccountsUow, *, player_id: str, game_id: str, actor: Actor) -> None:
    """Unlink the player from the game; the game's verify-link-token then says so."""
    link = await uow.accounts.remove_link(game_id, player_id)
    if link is None:
        raise LinkNotFound()
    await record_event(
        uow,
        "account.unlinked",
        AccountUnlinked(game_user_id=link.game_user_id, ogs_user_id=player_id),
        owner=Owner.game(game_id),
        aggregate_id=link.id,
    )
    await audit.record(
        uow,
        "account.unlinked",
        actor=actor,
        target_type="player",
        target_id=player_id,
        game_id=game_id,
    )
