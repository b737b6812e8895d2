"""Cluster mode: two ``serve`` replicas on one PostgreSQL and one Redis."""

from __future__ import annotations

import secrets

import httpx
import pytest

from support.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def replicas(start_server, fresh_database, redis_url, tmp_path):
    shared = {
        "GAMEKEEPER_DATABASE_URL": fresh_database,
        "GAMEKEEPER_REDIS_URL": redis_url,
        "GAMEKEEPER_SECRET_KEY": secrets.token_urlsafe(32),
        "GAMEKEEPER_ADMIN_TOKEN": "gk_admin_" + secrets.token_urlsafe(24),
        "GAMEKEEPER_RATE_LIMIT_SERVER": "8/minute",
        "GAMEKEEPER_KEY_CACHE_TTL": "300",  # so only the invalidation message can explain a refusal
    }
    a = start_server(tmp_path / "a", **shared)
    b = start_server(tmp_path / "b", **shared)
    return a, b, {"Authorization": f"Bearer {shared['GAMEKEEPER_ADMIN_TOKEN']}"}


def _issue_key(url, admin):
    game = httpx.post(f"{url}/admin/v1/games", json={"name": "Cluster"}, headers=admin).json()
    return httpx.post(
        f"{url}/admin/v1/games/{game['id']}/keys", json={"kind": "server"}, headers=admin
    ).json()


def test_a_key_revoked_on_one_replica_is_refused_by_the_other_within_a_second(replicas):
    a, b, admin = replicas
    issued = _issue_key(a.url, admin)
    auth = {"Authorization": f"Bearer {issued['key']}"}
    assert (
        httpx.get(f"{b.url}/gamekeeper/v1/credential", headers=auth).status_code == 200
    )  # cached on B

    assert httpx.delete(f"{a.url}/admin/v1/keys/{issued['id']}", headers=admin).status_code == 204

    def refused() -> int | None:
        status = httpx.get(f"{b.url}/gamekeeper/v1/credential", headers=auth).status_code
        return None if status == 200 else status

    # As often as B answers: the limit is one second after the revocation.
    status = wait_until(
        refused, what="replica B stopped accepting the revoked key", within=1.0, every=0
    )
    assert status == 401


def test_rate_limits_are_shared_between_replicas(replicas):
    a, b, admin = replicas
    auth = {"Authorization": f"Bearer {_issue_key(a.url, admin)['key']}"}
    statuses = [
        httpx.get(f"{server.url}/gamekeeper/v1/credential", headers=auth).status_code
        for _ in range(5)
        for server in (a, b)
    ]
    assert statuses[:8] == [200] * 8
    assert statuses[8:] == [429, 429]  # 8 per minute for the key, whichever replica it calls
