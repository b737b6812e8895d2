"""Catalog errors, each a subclass of a core category."""

from __future__ import annotations

from gamekeeper.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized


class GameNotOwned(Forbidden):
    code = "game_not_owned"
    message = "You do not own this game"


class GameNotListed(NotFound):
    code = "game_not_found"
    message = "No game with that id"


class InvalidGameField(InvalidInput):
    code = "invalid_game_field"


class InvalidCursor(InvalidInput):
    code = "invalid_cursor"
    message = "The cursor is not valid: pass back the nextCursor of a previous page unchanged"


class TooManyIds(InvalidInput):
    code = "too_many_ids"


class InvalidTokenAddress(InvalidInput):
    code = "invalid_token_address"
    message = "A token address is 1 to 128 letters, digits, '.', '_', ':' or '-'"


class TokenNotAssociated(NotFound):
    code = "token_not_associated"
    message = "That token is not associated with the game"


class SecretMismatch(Unauthorized):
    code = "invalid_api_key"
    message = "The API key and secret key do not match"


# Rewards split: each rule has its own code and message.
class SplitInvalid(InvalidInput):
    code = "invalid_rewards_split"
    message = "orgRewardsSplit must be an object of {identifier: basis points}"


class SplitValueNotInteger(SplitInvalid):
    code = "rewards_split_not_integer"


class SplitValueNotPositive(SplitInvalid):
    code = "rewards_split_not_positive"


class SplitSumTooLow(SplitInvalid):
    code = "rewards_split_below_total"


class SplitSumTooHigh(SplitInvalid):
    code = "rewards_split_above_total"


class SplitIdentifierInvalid(SplitInvalid):
    code = "rewards_split_invalid_identifier"


class SplitUserUnknown(SplitInvalid):
    code = "rewards_split_unknown_user"


# Ownership claims.
class GameUrlUnreachable(InvalidInput):
    code = "game_url_unreachable"


class GameUrlRefused(InvalidInput):
    code = "game_url_refused"


class OwnershipNotProven(Forbidden):
    code = "ownership_not_proven"


class GameUrlChanged(Conflict):
    code = "game_url_changed"
    message = "The game's URL changed while its page was checked; claim again"
