"""The baseline of ``bench/push.py``: a provider's client alone, without database or relay.

``python bench/push_baseline.py PROVIDER TOKENS.json`` builds the client the worker builds (the
same settings, from the environment the worker gets, through ``ProviderPool``) and sends one
message to each stored token in ``TOKENS.json``, in the relay's shape: batches of up to 500 (the
claim size, or the provider's own batch if smaller), at most four in flight (the relay's cap of
2,000 held per provider). It prints ``{"cpu_s", "wall_s", "outcomes"}`` as JSON; the benchmark
times the arrivals at the stand-in as it does for the worker. The difference between the two is
what the relay and the database cost per delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import ssl
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

CLAIM = 500
IN_FLIGHT = 4


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def run(provider: str, tokens: list[str]) -> dict[str, Any]:
    from gamekeeper.core.notify.types import ProviderName
    from gamekeeper.core.secrets import SecretBox
    from gamekeeper.infra.http import SafeHttpClient
    from gamekeeper.infra.push.base import PushMessage
    from gamekeeper.infra.push.pool import ProviderPool
    from gamekeeper.infra.push.relay import PushConfig
    from gamekeeper.settings import load_settings

    settings = load_settings(env=dict(os.environ))
    assert settings.secret_key is not None
    verify: ssl.SSLContext | bool = True
    if settings.push_ca_file:
        verify = ssl.create_default_context(cafile=settings.push_ca_file)
    http = SafeHttpClient(
        allowed_networks=settings.outbound_allowed_networks,
        timeout=settings.outbound_timeout,
        max_connections=PushConfig().per_provider,
        verify=verify,
    )

    async def no_credentials(_game_id: str) -> dict[ProviderName, str]:
        return {}

    pool = ProviderPool(
        settings, secret_key=settings.secret_key, box=SecretBox(settings.secret_key),
        client=http, load=no_credentials,
    )  # fmt: skip
    client = await pool.get(ProviderName(provider), None)
    assert client is not None, f"{provider} is not configured"
    notification_id = str(uuid.uuid4())
    messages = [
        PushMessage(
            delivery_id=str(uuid.uuid4()),
            token=token,
            title="Your match is ready",
            body="Tap to join, Ana waits",
            type="match_ready",
            notification_id=notification_id,
        )
        for token in tokens
    ]
    size = min(CLAIM, client.max_batch)
    slots = asyncio.Semaphore(IN_FLIGHT)
    outcomes: Counter[str] = Counter()

    async def batch(chunk: list[PushMessage]) -> None:
        async with slots:
            outcomes.update(verdict.outcome.value for verdict in await client.send(chunk))

    cpu, started = _cpu(), time.monotonic()
    try:
        await asyncio.gather(
            *(batch(messages[i : i + size]) for i in range(0, len(messages), size))
        )
    finally:
        wall = time.monotonic() - started
        cpu = _cpu() - cpu
        await pool.aclose()
        await http.aclose()
    return {"cpu_s": cpu, "wall_s": wall, "outcomes": dict(outcomes)}


def main() -> None:
    provider, path = sys.argv[1], Path(sys.argv[2])
    tokens = json.loads(path.read_text())
    loop_factory = None
    with contextlib.suppress(ImportError):
        import uvloop

        loop_factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        print(json.dumps(runner.run(run(provider, tokens))))


if __name__ == "__main__":
    main()
