"""Player accounts (the OGS side of a player): sign-up and sign-in, codes, links, web codes."""

from gamekeeper.core.accounts.codes import (
    request_login_code,
    send_verification,
    sign_in_with_code,
    verify_email,
)
from gamekeeper.core.accounts.device import sign_in_device, sign_in_known_device, sign_up_device
from gamekeeper.core.accounts.links import (
    check_link_token,
    confirm_link,
    create_link_token,
    decline_link,
    describe_link,
    list_links,
    remove_link,
)
from gamekeeper.core.accounts.passwords import add_credentials, change_password, sign_in, sign_up
from gamekeeper.core.accounts.sessions import refresh, sign_out
from gamekeeper.core.accounts.types import (
    AccountContext,
    AccountLink,
    AccountPolicy,
    AccountSession,
    LinkCheck,
    LinkRequest,
)
from gamekeeper.core.accounts.webcodes import issue_web_code, spend_web_code, verify_web_code

__all__ = [
    "AccountContext",
    "AccountLink",
    "AccountPolicy",
    "AccountSession",
    "LinkCheck",
    "LinkRequest",
    "add_credentials",
    "change_password",
    "check_link_token",
    "confirm_link",
    "create_link_token",
    "decline_link",
    "describe_link",
    "issue_web_code",
    "list_links",
    "refresh",
    "remove_link",
    "request_login_code",
    "send_verification",
    "sign_in",
    "sign_in_device",
    "sign_in_known_device",
    "sign_in_with_code",
    "sign_out",
    "sign_up",
    "sign_up_device",
    "spend_web_code",
    "verify_email",
    "verify_web_code",
]
