"""Steam Encrypted App Tickets: a fixed vector spelled out byte by byte, then built tickets."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gamekeeper.core.matchmaking.external import ExternalAuthRefused, ExternalUser
from gamekeeper.core.matchmaking.steam_ticket import (
    EXPIRED_REASON,
    FUTURE_REASON,
    MALFORMED_REASON,
    UNDECRYPTABLE_REASON,
    WRONG_APP_REASON,
    SteamAppKeyInvalid,
    app_key_from_hex,
    decrypt_app_ticket,
    open_app_ticket,
    ticket_from_hex,
)
from support import steam

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)

# --- The fixed vector: key 00..1f, IV 10..1f, user data "gk", SteamID 76561197960287930,
# app 480, issued 2026-01-01 12:00 UTC, expiring 21 days later, salt "saltsalt".
VECTOR_KEY = bytes(range(32))
VECTOR_IV = bytes(range(16, 32))
VECTOR_PLAIN = bytes.fromhex(
    "676b"  # user data "gk"
    "2e000000"  # ownership ticket length 46, counting these 4 bytes
    "04000000"  # ownership ticket version 4
    "ba56000001001001"  # SteamID64 76561197960287930
    "e0010000"  # AppID 480
    "0100000a"  # external IP 10.0.0.1
    "0100a8c0"  # internal IP 192.168.0.1
    "00000000"  # flags
    "c0615669"  # issued 1767268800
    "40117269"  # expires 1769083200
    "0000"  # no licences
    "0000"  # no DLC
    "0000"  # reserved
    "73616c7473616c74"  # salt "saltsalt"
    "288d48917e7d70f9d63feec1838f40bc8b4a5ab5"  # SHA-1 of everything above it
)
VECTOR = bytes.fromhex(
    "0801"  # 1 ticket_version_no = 1
    "10a2edddec09"  # 2 crc_encryptedticket = 0x9d9776a2, CRC-32 of the plaintext
    "1802"  # 3 cb_encrypteduserdata = 2
    "202e"  # 4 cb_encrypted_appownershipticket = 46
    "2a60"  # 5 encrypted_ticket, 96 bytes: the encrypted IV, then 5 CBC blocks
    "e9c3ef8ab23453e6f0749cd636e7a88e9bfa98296c60279971740bc1ed41223e"
    "288e9f211780a0e38072b63c70674488c67b74534de5d8e98c5497a72d55fd6e"
    "2efb0d7e9a7e6428d5cf101d1fefec5a3f8c75cb291ff7707fb522542f928a52"
)


def test_the_fixed_vector_decrypts_to_the_values_spelled_out_in_it():
    opened = open_app_ticket(VECTOR, VECTOR_KEY)
    assert opened.version == 1
    assert opened.steam_id == 76561197960287930
    assert opened.app_id == 480
    assert opened.issued_at == NOW
    assert opened.expires_at == NOW + timedelta(days=21)
    assert opened.user_data == b"gk"
    assert opened.licenses == () and opened.dlc_app_ids == ()
    user = decrypt_app_ticket(VECTOR, VECTOR_KEY, app_id=480, now=NOW, max_age=HOUR)
    assert user == ExternalUser("steam", "76561197960287930", None, None)


def test_the_ticket_builder_reproduces_the_fixed_vector():
    assert zlib.crc32(VECTOR_PLAIN) == 0x9D9776A2
    encrypted = steam.symmetric_encrypt(VECTOR_PLAIN, VECTOR_KEY, iv=VECTOR_IV)
    rebuilt = steam.envelope(
        version=1, crc=0x9D9776A2, user_data_size=2, ownership_size=46, encrypted=encrypted
    )
    assert rebuilt == VECTOR


# --- Built tickets, each with a fresh random key ---------------------------------------


@pytest.fixture
def key() -> bytes:
    return steam.new_key()


def _decrypt(ticket: bytes, key: bytes, **overrides) -> ExternalUser:
    options = {"app_id": steam.TEST_APP_ID, "now": NOW, "max_age": HOUR, **overrides}
    return decrypt_app_ticket(ticket, key, **options)


def _refusal(ticket: bytes, key: bytes, **overrides) -> str:
    with pytest.raises(ExternalAuthRefused) as caught:
        _decrypt(ticket, key, **overrides)
    return caught.value.message


@pytest.mark.parametrize("ticket_version", [1, 2])
@pytest.mark.parametrize("digest", [True, False])
def test_a_good_ticket_names_its_steam_user(key, ticket_version, digest):
    ticket = steam.build_ticket(
        key,
        issued_at=NOW - timedelta(minutes=10),
        steam_id=76561198000000042,
        user_data=b"lobby-7 nonce 1234",
        ticket_version=ticket_version,
        digest=digest,
    )
    assert _decrypt(ticket, key) == ExternalUser("steam", "76561198000000042", None, None)
    assert open_app_ticket(ticket, key).user_data == b"lobby-7 nonce 1234"


def test_licences_and_dlc_are_read_past(key):
    ownership = steam.ownership_ticket(
        steam_id=steam.TEST_STEAM_ID,
        app_id=steam.TEST_APP_ID,
        issued_at=NOW,
        expires_at=NOW + timedelta(days=21),
        licenses=(11, 12),
        dlc=((481, (21,)), (482, ())),
    )
    plain = steam.plaintext(ownership)
    ticket = steam.envelope(
        version=1,
        crc=zlib.crc32(plain),
        user_data_size=0,
        ownership_size=len(ownership),
        encrypted=steam.symmetric_encrypt(plain, key),
    )
    opened = open_app_ticket(ticket, key)
    assert opened.licenses == (11, 12)
    assert opened.dlc_app_ids == (481, 482)
    assert _decrypt(ticket, key).subject == str(steam.TEST_STEAM_ID)


def test_another_apps_key_cannot_open_the_ticket(key):
    ticket = steam.build_ticket(key, issued_at=NOW)
    assert _refusal(ticket, steam.new_key()) == UNDECRYPTABLE_REASON


def test_a_flipped_ciphertext_byte_fails_the_crc(key):
    ticket = bytearray(steam.build_ticket(key, issued_at=NOW, digest=False))
    # The last 64 bytes are the encrypted IV and three CBC blocks (46 bytes padded to 48).
    # A flip in the first CBC block garbles that block and flips one byte of the next, leaving
    # the last block and its padding intact: only the CRC can notice.
    ticket[-48 + 3] ^= 0x40
    assert _refusal(bytes(ticket), key) == UNDECRYPTABLE_REASON


def test_a_wrong_crc_or_digest_is_refused(key):
    assert _refusal(steam.build_ticket(key, issued_at=NOW, bad_crc=True), key) == (
        UNDECRYPTABLE_REASON
    )
    assert _refusal(steam.build_ticket(key, issued_at=NOW, bad_digest=True), key) == (
        UNDECRYPTABLE_REASON
    )


def test_a_ticket_for_another_app_is_refused(key):
    ticket = steam.build_ticket(key, issued_at=NOW, app_id=730)
    assert _refusal(ticket, key) == WRONG_APP_REASON


def test_a_ticket_older_than_max_age_is_expired(key):
    ticket = steam.build_ticket(key, issued_at=NOW - HOUR)
    assert _decrypt(ticket, key).subject == str(steam.TEST_STEAM_ID)  # exactly max_age: fine
    assert _refusal(ticket, key, now=NOW + timedelta(seconds=1)) == EXPIRED_REASON


def test_a_ticket_past_its_own_expiry_is_expired(key):
    ticket = steam.build_ticket(
        key, issued_at=NOW - timedelta(days=2), expires_at=NOW - timedelta(seconds=1)
    )
    assert _refusal(ticket, key, max_age=timedelta(days=7)) == EXPIRED_REASON


def test_a_ticket_from_the_future_is_refused_beyond_the_allowed_skew(key):
    slightly_ahead = steam.build_ticket(key, issued_at=NOW + timedelta(minutes=4))
    assert _decrypt(slightly_ahead, key).subject == str(steam.TEST_STEAM_ID)
    far_ahead = steam.build_ticket(key, issued_at=NOW + timedelta(minutes=6))
    assert _refusal(far_ahead, key) == FUTURE_REASON


def test_truncated_tickets_are_malformed(key):
    ticket = steam.build_ticket(key, issued_at=NOW)
    for cut in (1, 16, len(ticket) - 4, len(ticket) - 1):
        assert _refusal(ticket[:cut], key) == MALFORMED_REASON
    assert _refusal(ticket + b"\x00", key) == MALFORMED_REASON


@pytest.mark.parametrize("text", ["", "zz", "abc", "08 01 10", "0x0801", "ab" * 5000])
def test_text_that_is_not_a_hex_ticket_is_malformed(text):
    with pytest.raises(ExternalAuthRefused) as caught:
        ticket_from_hex(text)
    assert caught.value.message == MALFORMED_REASON


def test_hex_round_trips(key):
    ticket = steam.build_ticket(key, issued_at=NOW)
    assert _decrypt(ticket_from_hex(ticket.hex()), key).subject == str(steam.TEST_STEAM_ID)
    assert ticket_from_hex(ticket.hex().upper()) == ticket


def test_an_unknown_ticket_version_is_malformed(key):
    ticket = steam.build_ticket(key, issued_at=NOW, ticket_version=3)
    assert _refusal(ticket, key) == MALFORMED_REASON


@given(garbage=st.binary(max_size=400))
def test_garbage_is_refused_never_crashes(garbage):
    with pytest.raises(ExternalAuthRefused) as caught:
        decrypt_app_ticket(garbage, VECTOR_KEY, app_id=480, now=NOW, max_age=HOUR)
    assert caught.value.message in {MALFORMED_REASON, UNDECRYPTABLE_REASON}


@given(position=st.integers(0, len(VECTOR) - 1), flip=st.integers(1, 255))
def test_a_damaged_vector_is_refused_or_still_names_the_same_user(position, flip):
    damaged = bytearray(VECTOR)
    damaged[position] ^= flip
    try:
        user = decrypt_app_ticket(bytes(damaged), VECTOR_KEY, app_id=480, now=NOW, max_age=HOUR)
    except ExternalAuthRefused:
        return
    # Only field 4 (the ownership ticket size) is not needed to decrypt or parse.
    assert user.subject == "76561197960287930"


def test_app_keys_are_64_hex_digits():
    assert app_key_from_hex(VECTOR_KEY.hex().upper()) == VECTOR_KEY
    for text in ("", "00" * 31, "00" * 33, "zz" * 32):
        with pytest.raises(SteamAppKeyInvalid):
            app_key_from_hex(text)
    with pytest.raises(ValueError, match="32 bytes"):
        open_app_ticket(VECTOR, VECTOR_KEY[:16])
