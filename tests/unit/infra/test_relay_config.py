"""The relay's settings: lease, delivery timeout, NATS subject prefix."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gamekeeper.infra.relay import RelayConfig
from gamekeeper.settings import SettingsError, load_settings


def test_the_lease_and_the_timeout_come_from_the_settings() -> None:
    assert RelayConfig.from_settings(load_settings(env={})).lease == timedelta(seconds=60)
    settings = load_settings(
        env={"GAMEKEEPER_RELAY_LEASE_SECONDS": "8", "GAMEKEEPER_OUTBOUND_TIMEOUT": "4"}
    )
    config = RelayConfig.from_settings(settings)
    assert (config.lease, config.timeout) == (timedelta(seconds=8), 4.0)


def test_a_lease_shorter_than_twice_the_timeout_is_refused() -> None:
    with pytest.raises(SettingsError, match=r"RELAY_LEASE_SECONDS: must be at least twice .*15 s"):
        load_settings(env={"GAMEKEEPER_RELAY_LEASE_SECONDS": "20"})
    with pytest.raises(SettingsError, match="RELAY_LEASE_SECONDS"):
        load_settings(env={"GAMEKEEPER_RELAY_LEASE_SECONDS": "0"})


@pytest.mark.parametrize("prefix", ["gamekeeper", "acme.events", "studio-1_prod"])
def test_nats_subject_prefixes_of_plain_tokens_are_accepted(prefix: str) -> None:
    settings = load_settings(env={"GAMEKEEPER_NATS_SUBJECT_PREFIX": prefix})
    assert settings.nats_subject_prefix == prefix


@pytest.mark.parametrize("prefix", ["", "a b", "events.>", "events.*", "a..b", ".a", "a."])
def test_nats_subject_prefixes_with_wildcards_or_empty_tokens_are_refused(prefix: str) -> None:
    with pytest.raises(SettingsError, match="NATS_SUBJECT_PREFIX"):
        load_settings(env={"GAMEKEEPER_NATS_SUBJECT_PREFIX": prefix})
