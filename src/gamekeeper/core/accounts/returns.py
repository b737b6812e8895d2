"""Where the link page sends the player back: the link's redirect URL, checked once more."""

from __future__ import annotations

from gamekeeper.core.accounts.errors import RedirectNotAllowed
from gamekeeper.core.accounts.links import _redirect
from gamekeeper.core.accounts.store import AccountsUow
from gamekeeper.core.accounts.types import LinkRequest


async def return_address(uow: AccountsUow, *, link: LinkRequest) -> str:
    """The link's redirect URL if it is still on the game's allowed origins (they may change)."""
    game = await uow.identity.get_game(link.game_id)
    if game is None:
        raise RedirectNotAllowed()
    return _redirect(link.redirect_url, game.allowed_origins)
