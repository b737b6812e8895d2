"""The account services' context, built once per running application."""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from litestar import Request
from litestar.di import NamedDependency, Provide

from gamekeeper.api.guards import principal_of, runtime_of
from gamekeeper.core.accounts.types import AccountContext, AccountPolicy
from gamekeeper.core.errors import Unauthorized
from gamekeeper.core.identity.types import KeyPrincipal
from gamekeeper.core.secrets import derive_key
from gamekeeper.infra.mail import make_mailer
from gamekeeper.runtime import Runtime

_contexts: WeakKeyDictionary[Runtime, AccountContext] = WeakKeyDictionary()


def account_context(runtime: Runtime) -> AccountContext:
    """The context of ``runtime``'s application: lifetimes, code key, mailer, rate limiter."""
    context = _contexts.get(runtime)
    if context is None:
        settings = runtime.settings
        policy = AccountPolicy(
            session=runtime.session_policy,
            code_key=derive_key(runtime.session_policy.signing_key.hex(), "gamekeeper/codes/v1"),
            link_ttl=settings.link_token_ttl,
            email_code_ttl=settings.email_code_ttl,
            web_code_ttl=settings.web_code_ttl,
        )
        context = AccountContext(
            policy=policy, mailer=make_mailer(settings), attempts=runtime.limiter
        )
        _contexts[runtime] = context
    return context


def provide_accounts(request: Request[Any, Any, Any]) -> AccountContext:
    return account_context(runtime_of(request))


# The hot routes (device sign-in, refresh, verify-token) take the context and the principal
# from the request instead of as dependencies: beside their unit of work, a second dependency
# makes Litestar resolve them in a task group, a cost paid on every request.
accounts_of = provide_accounts


def key_principal(request: Request[Any, Any, Any]) -> KeyPrincipal:
    """The game key the route's guard admitted."""
    principal = principal_of(request)
    if not isinstance(principal, KeyPrincipal):
        raise Unauthorized()
    return principal


AccountsDep = NamedDependency[AccountContext]
DEPENDENCIES = {"account_ctx": Provide(provide_accounts, sync_to_thread=False)}
