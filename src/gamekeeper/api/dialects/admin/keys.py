"""Admin API: an owner's keys (mounted under each owner's path, as the webhooks are)."""

from __future__ import annotations

from litestar import get, post
from litestar.params import JSONBody

from gamekeeper.api.deps import ActorDep, OwnerDep, ReadUow, WriteUow
from gamekeeper.api.dialects.admin import schemas as s
from gamekeeper.core.identity import keys
from gamekeeper.core.identity.types import KeyKind


@post("/keys")
async def issue_key(
    owner: OwnerDep, data: JSONBody[s.KeyCreate], write_uow: WriteUow, actor: ActorDep
) -> s.KeyCreated:
    """A new key, shown once; the kinds an owner may hold depend on the owner."""
    issued = await keys.issue_key(
        write_uow, owner=owner, kind=KeyKind(data.kind), scopes=data.scopes, name=data.name,
        test_mode=data.test_mode, actor=actor,
    )  # fmt: skip
    return s.KeyCreated.of(issued)


@get("/keys")
async def list_keys(owner: OwnerDep, read_uow: ReadUow) -> s.KeyList:
    """The owner's keys, revoked ones included, without secrets."""
    return s.KeyList(items=[s.KeyOut.of(k) for k in await keys.list_keys(read_uow, owner=owner)])


ROUTES = [issue_key, list_keys]
