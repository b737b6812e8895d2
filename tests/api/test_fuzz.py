"""Every operation of ``/openapi.json``, fuzzed with schemathesis against a real ``serve``.

A server on loopback (SQLite and PostgreSQL) is given a credential of each kind: the admin
token, a game key, a player session, an OGP developer (each request signed in a hook, a fresh
timestamp each time) and a BattlePlace client token. Each operation then gets a bounded number
of generated requests, valid and invalid by its schema, each sent with the credentials its
``security`` names. The test fails on any 5xx, and on any answer the document does not
describe: an undocumented status, another content type, a body or header off its schema.

Rate limits are off (a fuzzer is one client sending thousands of requests: with them on, most
answers would be 429 and nothing behind them would be reached). Generation is derandomized,
so a failure reproduces: the report gives the request as a curl command and the server's
traceback lines.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import ADMIN_TOKEN, SECRET_KEY
from gamekeeper.core.identity import hmac_auth
from support.processes import Server, start_server_fixture

pytestmark = pytest.mark.slow

# Per operation and mode: ~125 operations x 2 modes x this take about a minute per database
# on two shared cores.
EXAMPLES = 10
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

start_server = pytest.fixture(start_server_fixture)


@dataclass
class Credentials:
    """A credential of each kind, as headers; the OGP developer signs per request."""

    bearer: dict[str, str]
    developer: dict[str, str]
    signed: int = 0

    def headers(self, schemes: list[str], method: str, path: str) -> dict[str, str]:
        for scheme in schemes:
            if scheme == "developerHmac":
                # A write's signature is good for one request: a new millisecond each time.
                self.signed = max(int(time.time() * 1000), self.signed + 1)
                timestamp = str(self.signed)
                value = hmac_auth.header_value(
                    self.developer["apiKey"], self.developer["secretKey"], method, path, timestamp
                )
                return {"Authorization": value}
            if scheme in self.bearer:
                return {"Authorization": f"Bearer {self.bearer[scheme]}"}
        return {}


@dataclass
class Findings:
    failures: dict[str, str] = field(default_factory=dict)  # one per operation and kind
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    guarded: set[str] = field(default_factory=set)

    def report(self, server: Server) -> str:
        """The failures, then the server's error lines (each 5xx logs its traceback)."""
        logged = server.output + server.stderr_path.read_text()
        errors = [line[:2000] for line in logged.splitlines() if "error" in line.lower()]
        tail = "\n".join(dict.fromkeys(errors))[-6000:]
        return "\n\n".join([*self.failures.values(), "server errors:\n" + tail])


def made(http: httpx.Client, path: str, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    response = http.post(path, json=body, **kwargs)
    assert response.status_code in (200, 201), response.text
    answer: dict[str, Any] = response.json()
    return answer


def provision(http: httpx.Client) -> Credentials:
    """A game with a server key, a test key and a player; a developer; a BattlePlace client."""
    game = made(http, "/admin/v1/games", {"name": "Fuzzed"}, headers=ADMIN)["id"]
    keys = f"/admin/v1/games/{game}/keys"
    server_key = made(http, keys, {"kind": "server"}, headers=ADMIN)["key"]
    test_key = made(http, keys, {"kind": "test"}, headers=ADMIN)["key"]
    auth = {"projectId": game, "auth": {"testKey": test_key, "testId": "fuzz"}}
    client = made(http, "/v1a/client/auth", auth)
    bearer = {
        "adminToken": ADMIN_TOKEN,
        "gameKey": server_key,
        "clientToken": client["clientToken"],
    }
    credentials = Credentials(bearer=bearer, developer={})
    renew(http, credentials)
    return credentials


def renew(http: httpx.Client, credentials: Credentials) -> None:
    """A fresh player session and developer: the operation before may have ended them
    (``logout``, ``reset-secret``)."""
    player = made(http, "/api/v1/auth/device", {"deviceId": "fuzz-device-0001"})
    credentials.bearer["playerSession"] = player["sessionToken"]
    credentials.developer = made(http, "/admin/v1/developers", {"name": "Fuzz"}, headers=ADMIN)


def fuzz(operation: Any, mode: GenerationMode, url: str, credentials: Credentials, found: Findings):
    label = f"{operation.method.upper()} {operation.path}"
    schemes = [name for item in operation.definition.raw.get("security", []) for name in item]
    if schemes:
        found.guarded.add(label)
    session = requests.Session()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        request = case.as_transport_kwargs(base_url=url)
        path = unquote(urlsplit(request["url"]).path)
        request["headers"] = {
            **request.get("headers", {}),
            **credentials.headers(schemes, case.method, path),
        }
        response = session.request(**request, timeout=30, allow_redirects=False)
        found.statuses[label][response.status_code] += 1
        case.validate_response(response, checks=CHECKS)

    try:
        run()
    except Unsatisfiable:
        # No input can break this operation's schema (no parameters, or free-form strings):
        # there are no invalid requests to send, and the valid ones ran in positive mode.
        assert mode is GenerationMode.NEGATIVE, label
    except (Exception, BaseExceptionGroup) as exc:  # every failure is reported together
        lines = [line[:400] for line in str(exc).splitlines() if line.strip()]
        found.failures[f"{label} {mode}"] = "\n".join([f"--- {label} ({mode})", *lines[:40]])


def test_no_operation_answers_5xx_or_off_its_document(start_server, tmp_path, database_url):
    server = start_server(
        tmp_path / "data",
        GAMEKEEPER_DATABASE_URL=database_url,
        GAMEKEEPER_ADMIN_TOKEN=ADMIN_TOKEN,
        GAMEKEEPER_SECRET_KEY=SECRET_KEY,
        GAMEKEEPER_RATE_LIMITS_ENABLED="false",
    )
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 100
    found = Findings()
    with httpx.Client(base_url=server.url, timeout=10) as http:
        credentials = provision(http)
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                renew(http, credentials)
                fuzz(operation, mode, server.url, credentials, found)
    assert not found.failures, found.report(server)
    # The credentials worked: every guarded operation answered something else than 401.
    refused = sorted(label for label in found.guarded if set(found.statuses[label]) <= {401})
    assert not refused, refused
